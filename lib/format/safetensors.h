// safetensors reader: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and [begin, end) byte offsets into the data section, then the data.
// Everything is validated before use: header length within the file, JSON well-formed,
// offsets within the data section, no overlaps, byte counts = product(shape) * dtype size.
#ifndef EMBER_FORMAT_SAFETENSORS_H_
#define EMBER_FORMAT_SAFETENSORS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/base/mapped_file.h"
#include "lib/format/tensor.h"

namespace ember {

class SafetensorsFile {
 public:
  // Errors name the file and the tensor: IoError, InvalidModelError, UnsupportedError
  // (a dtype ember cannot compute with, e.g. I64 for a weight).
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Parse(std::unique_ptr<MappedFile> file);

  // Tensors as views; TensorView::ne is innermost first (safetensors shape reversed).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* FindTensor(std::string_view name) const;
  const std::string& path() const { return file_->path(); }

 private:
  SafetensorsFile() = default;
  std::unique_ptr<MappedFile> file_;
  std::vector<TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
};

}  // namespace ember

#endif  // EMBER_FORMAT_SAFETENSORS_H_
