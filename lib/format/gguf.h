// GGUF v2/v3 reader: maps the file, validates every header field before use and exposes
// metadata and zero-copy tensor views. Nothing is allocated from an unchecked count: each
// count and length is first checked against the bytes that remain in the file.
#ifndef EMBER_FORMAT_GGUF_H_
#define EMBER_FORMAT_GGUF_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/base/mapped_file.h"
#include "lib/format/tensor.h"

namespace ember {

// GGUF metadata value types (numeric ids from the format).
enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};

// Byte size of a fixed-size value type id; 0 for strings and arrays, -1 for unknown ids.
int GgufScalarSize(uint32_t type_id);

// One metadata value. Scalars are decoded; strings and arrays point into the mapping.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  // Scalars. An integer fills all three: `i` (unsigned above INT64_MAX saturates), `u`
  // (negative values read 0) and `f`; bool is 0/1 in `u`; floats fill only `f`.
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0.0;
  std::string_view str;        // kString
  GgufType elem_type = GgufType::kUint8;  // kArray
  uint64_t count = 0;          // kArray: number of elements
  const uint8_t* array_data = nullptr;    // kArray of fixed-size elements: the raw bytes
  std::vector<std::string_view> strings;  // kArray of kString: every element, validated
};

class GgufFile {
 public:
  // Opens and validates `path`. Errors: IoError, InvalidModelError (message names the
  // field and offset), UnsupportedError (e.g. version 1).
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses bytes the caller keeps alive (tests, fuzzers).
  static absl::StatusOr<std::unique_ptr<GgufFile>> Parse(std::unique_ptr<MappedFile> file);

  uint32_t version() const { return version_; }
  const std::string& path() const { return file_->path(); }

  // Metadata lookup; nullptr if absent.
  const GgufValue* Find(std::string_view key) const;
  // Typed getters: NotFound-free convenience. They return std::nullopt when the key is
  // absent and an InvalidModelError when it has the wrong type.
  absl::StatusOr<std::optional<uint64_t>> GetUint(std::string_view key) const;  // any int type >= 0
  absl::StatusOr<std::optional<double>> GetFloat(std::string_view key) const;   // f32/f64
  absl::StatusOr<std::optional<bool>> GetBool(std::string_view key) const;
  absl::StatusOr<std::optional<std::string_view>> GetString(std::string_view key) const;
  // Arrays: InvalidModelError if the element type is wrong; an absent key gives an empty
  // vector (use Find() to tell "absent" from "empty"). GetFloatArray takes f32 or f64
  // elements; GetInt32Array any integer element type whose values fit in int32.
  absl::StatusOr<std::vector<std::string_view>> GetStringArray(std::string_view key) const;
  absl::StatusOr<std::vector<float>> GetFloatArray(std::string_view key) const;
  absl::StatusOr<std::vector<int32_t>> GetInt32Array(std::string_view key) const;

  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* FindTensor(std::string_view name) const;
  // Keys in file order.
  const std::vector<std::string>& metadata_keys() const { return keys_; }

  // `general.alignment` (32 when absent) and the file offset where tensor data starts.
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const MappedFile& file() const { return *file_; }

 private:
  GgufFile() = default;
  absl::Status WrongType(std::string_view key, const GgufValue& v, std::string_view wanted) const;

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::string> keys_;
  absl::flat_hash_map<std::string, GgufValue> metadata_;
  std::vector<TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

}  // namespace ember

#endif  // EMBER_FORMAT_GGUF_H_
