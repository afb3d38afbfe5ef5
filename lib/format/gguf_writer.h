// GGUF v3 writer: metadata and tensor descriptions are collected in memory, tensor bytes
// are produced by callbacks while the file is written, so a multi-GB synthetic model never
// has to sit in memory. The writer encodes what it is given, in order: it does not reject
// duplicate keys or odd names (tests use that to build malformed files); GgufFile is the
// validator.
#ifndef EMBER_FORMAT_GGUF_WRITER_H_
#define EMBER_FORMAT_GGUF_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernels/dtype.h"
#include "lib/format/gguf.h"

namespace ember {

// Where the encoded file goes.
class GgufSink {
 public:
  virtual ~GgufSink() = default;
  virtual absl::Status Write(const void* data, size_t n) = 0;
};

// Produces one tensor's bytes by writing exactly its byte size to the sink, in any number
// of pieces.
using GgufTensorFill = std::function<absl::Status(GgufSink& sink)>;

class GgufWriter {
 public:
  // `alignment` of the data section and of every tensor in it; when it is not the default
  // 32 the writer records it as `general.alignment` (first key). Must be a power of two.
  explicit GgufWriter(uint32_t alignment = 32);

  // Metadata, written in the order added.
  void AddUint8(std::string key, uint8_t v);
  void AddInt8(std::string key, int8_t v);
  void AddUint16(std::string key, uint16_t v);
  void AddInt16(std::string key, int16_t v);
  void AddUint32(std::string key, uint32_t v);
  void AddInt32(std::string key, int32_t v);
  void AddUint64(std::string key, uint64_t v);
  void AddInt64(std::string key, int64_t v);
  void AddFloat32(std::string key, float v);
  void AddFloat64(std::string key, double v);
  void AddBool(std::string key, bool v);
  void AddString(std::string key, std::string_view v);
  void AddStringArray(std::string key, absl::Span<const std::string> v);
  void AddFloat32Array(std::string key, absl::Span<const float> v);
  void AddInt32Array(std::string key, absl::Span<const int32_t> v);
  // An array of any fixed-size element type: `count` elements, little-endian, in `raw`.
  void AddArray(std::string key, GgufType elem_type, uint64_t count, std::string raw);
  // A value read from a GgufFile, re-encoded under `key` (copying metadata between files).
  // UnsupportedError for arrays of arrays, whose elements GgufValue does not keep.
  absl::Status AddValue(std::string key, const GgufValue& v);
  // A value of any type id whose encoding (everything after the type id) is given as is.
  void AddRaw(std::string key, uint32_t type_id, std::string encoded_value);

  // Tensors, laid out in the order added. `ne` is innermost first (ne[0] = row length),
  // 1 to 4 positive dims; ne[0] must be a whole number of blocks of `type`.
  absl::Status AddTensor(std::string name, DType type, std::vector<int64_t> ne, std::string bytes);
  absl::Status AddTensor(std::string name, DType type, std::vector<int64_t> ne, GgufTensorFill fill);

  size_t tensor_count() const { return tensors_.size(); }
  // Size of the file WriteTo will produce.
  uint64_t FileSize() const;

  // Streams the whole file. Fails if a fill callback fails or writes the wrong byte count.
  absl::Status WriteTo(GgufSink& sink) const;
  // Writes `path` (through a temporary file renamed into place, so a failed write leaves no
  // half-written model behind).
  absl::Status WriteFile(const std::string& path) const;
  absl::StatusOr<std::string> ToBytes() const;

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
    uint64_t offset;  // within the data section
    GgufTensorFill fill;
  };
  std::string EncodeHeader() const;
  uint64_t DataStart() const;

  uint32_t alignment_;
  uint64_t kv_count_ = 0;
  std::string kv_bytes_;  // encoded key/value pairs
  std::vector<Tensor> tensors_;
  uint64_t data_size_ = 0;  // end of the last tensor within the data section
};

}  // namespace ember

#endif  // EMBER_FORMAT_GGUF_WRITER_H_
