#include "lib/base/anonymous_memory.h"

#include "lib/base/platform.h"

namespace ember {

std::unique_ptr<AnonymousMemory> AnonymousMemory::Allocate(size_t bytes) {
  if (bytes == 0) bytes = 1;
  void* p = AllocatePages(bytes);
  if (p == nullptr) return nullptr;
  return std::unique_ptr<AnonymousMemory>(new AnonymousMemory(static_cast<uint8_t*>(p), bytes));
}

AnonymousMemory::~AnonymousMemory() { FreePages(data_, size_); }

}  // namespace ember
