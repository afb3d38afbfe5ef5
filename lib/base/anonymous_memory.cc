#include "lib/base/anonymous_memory.h"

#include <sys/mman.h>
#include <unistd.h>

namespace ember {

std::unique_ptr<AnonymousMemory> AnonymousMemory::Allocate(size_t bytes) {
  if (bytes == 0) bytes = 1;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  return std::unique_ptr<AnonymousMemory>(new AnonymousMemory(static_cast<uint8_t*>(p), bytes));
}

AnonymousMemory::~AnonymousMemory() { ::munmap(data_, size_); }

namespace {

// Linux values, for headers older than the kernel feature (advice only: an older kernel
// answers EINVAL and the pages fault in as usual).
constexpr int kPopulateRead = 22;   // MADV_POPULATE_READ
constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE

void AdviseWholePages(const void* begin, size_t n, int advice) {
  if (n == 0) return;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(begin) / page * page;
  const uintptr_t last = reinterpret_cast<uintptr_t>(begin) + n;
  ::madvise(reinterpret_cast<void*>(first), last - first, advice);
}

}  // namespace

void PopulateForReading(const void* begin, size_t n) { AdviseWholePages(begin, n, kPopulateRead); }

void PopulateForWriting(void* begin, size_t n) { AdviseWholePages(begin, n, kPopulateWrite); }

}  // namespace ember
