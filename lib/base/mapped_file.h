// A read-only memory map of a whole file: the zero-copy backing store of GGUF and
// safetensors tensors. Weight views point into it, so it must outlive them.
#ifndef EMBER_BASE_MAPPED_FILE_H_
#define EMBER_BASE_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ember {

class MappedFile {
 public:
  // Maps `path` read-only. IoError if it cannot be opened, is not a regular file or cannot
  // be mapped. An empty file maps to an empty span.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  // Wraps bytes the caller keeps alive (tests and fuzzers parse buffers this way).
  static std::unique_ptr<MappedFile> FromBuffer(absl::Span<const uint8_t> bytes,
                                                std::string name = "<buffer>");
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  absl::Span<const uint8_t> bytes() const { return {data_, size_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Tells the kernel that [begin, begin + n) of the mapping will not be read again, so its
  // pages leave this process's resident set (whole pages inside the range only: a page
  // shared with a neighbouring tensor stays). Reading the range later still works: the
  // pages fault back in from the file. No-op for FromBuffer wrappers and ranges outside
  // the mapping.
  void ReleasePages(const void* begin, size_t n) const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool owns_mapping_ = false;
  std::string path_;
};

}  // namespace ember

#endif  // EMBER_BASE_MAPPED_FILE_H_
