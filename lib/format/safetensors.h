// safetensors reader: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and [begin, end) byte offsets into the data section, then the data.
// Everything is validated before use: header length within the file, JSON well-formed,
// offsets within the data section, no overlaps, byte counts = product(shape) * dtype size.
//
// Views point straight into the mapping. The format does not align tensor data: HF writers
// pad the header so data starts 8-byte aligned, but a valid file may place an F32 tensor at
// any byte. Consumers must not assume more than 1-byte alignment of TensorView::data (copy
// with memcpy or use unaligned loads).
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

// A tensor that is valid in the file but that ember cannot compute with: a dtype other than
// F32/F16/BF16 (I64, U8, BOOL, F8_*, ...) or more than 4 dimensions. It has no TensorView;
// asking for it through GetTensor() is an UnsupportedError naming file, tensor and dtype.
struct UnsupportedTensor {
  std::string name;
  std::string dtype;            // as the file spells it, e.g. "I64"
  std::vector<int64_t> shape;   // as the file lists it, outermost first
  std::string reason;           // e.g. "dtype I64 is not supported"
};

class SafetensorsFile {
 public:
  // Errors name the file and the tensor: IoError, InvalidModelError, UnsupportedError
  // (a dtype ember cannot compute with, e.g. I64 for a weight).
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Parse(std::unique_ptr<MappedFile> file);

  // Tensors as views; TensorView::ne is innermost first (safetensors shape reversed).
  // Only tensors ember can compute with (F32, F16, BF16, at most 4 dims), in name order.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // nullptr if there is no usable tensor of that name (absent, or unsupported).
  const TensorView* FindTensor(std::string_view name) const;
  // The tensor's view; UnsupportedError if it exists with an unsupported dtype/rank,
  // InvalidModelError if the file has no such tensor. Messages name file and tensor.
  absl::StatusOr<const TensorView*> GetTensor(std::string_view name) const;
  // Tensors left out of tensors() (see UnsupportedTensor), in name order.
  const std::vector<UnsupportedTensor>& unsupported_tensors() const { return unsupported_; }
  const UnsupportedTensor* FindUnsupported(std::string_view name) const;
  // The UnsupportedError that using `t` gives (names file, tensor and dtype).
  absl::Status UnsupportedTensorError(const UnsupportedTensor& t) const;
  // "__metadata__" (string -> string), e.g. {"format": "pt"}; empty if absent.
  const absl::flat_hash_map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return file_->path(); }

 private:
  SafetensorsFile() = default;
  std::unique_ptr<MappedFile> file_;
  std::vector<TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  std::vector<UnsupportedTensor> unsupported_;
  absl::flat_hash_map<std::string, size_t> unsupported_index_;
  absl::flat_hash_map<std::string, std::string> metadata_;
};

}  // namespace ember

#endif  // EMBER_FORMAT_SAFETENSORS_H_
