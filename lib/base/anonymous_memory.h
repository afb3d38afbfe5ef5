// Large, page-aligned, zero-filled memory straight from the kernel, for weights rewritten
// at load time. No transparent huge pages on purpose: with THP in "madvise" mode (Debian's
// default) a MADV_HUGEPAGE fault may compact memory first, and loading Phi-2 then took
// anywhere from 0.4 to 3.5 s on the same machine; small pages cost a steady ~0.3 s/GB.
#ifndef EMBER_BASE_ANONYMOUS_MEMORY_H_
#define EMBER_BASE_ANONYMOUS_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ember {

class AnonymousMemory {
 public:
  // Pages from AllocatePages (lib/base/platform.h; PopulateForWriting there maps them ahead
  // of the first write). nullptr when the OS refuses (the caller reports out-of-memory).
  static std::unique_ptr<AnonymousMemory> Allocate(size_t bytes);
  ~AnonymousMemory();
  AnonymousMemory(const AnonymousMemory&) = delete;
  AnonymousMemory& operator=(const AnonymousMemory&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  AnonymousMemory(uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t* data_;
  size_t size_;
};

}  // namespace ember

#endif  // EMBER_BASE_ANONYMOUS_MEMORY_H_
