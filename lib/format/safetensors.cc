#include "lib/format/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_join.h"
#include "lib/base/errors.h"
#include "lib/format/json_text.h"

namespace ember {
namespace {

using nlohmann::json;

// The reference implementation refuses headers above 100 MB; real ones are kilobytes
// (a 7B model's header is about 30 KB).
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;
constexpr int kMaxDims = 4;  // TensorView::ne

// Element types the safetensors format defines, with their sizes. Only the float types ember
// computes with map to a DType; the rest are recorded as unsupported tensors.
struct SafetensorsDType {
  std::string_view name;
  uint64_t bytes;
  std::optional<DType> dtype;
};

const SafetensorsDType* LookupDType(std::string_view name) {
  static const SafetensorsDType kTypes[] = {
      {"F32", 4, DType::kF32},  {"F16", 2, DType::kF16},  {"BF16", 2, DType::kBF16},
      {"F64", 8, std::nullopt}, {"I64", 8, std::nullopt}, {"U64", 8, std::nullopt},
      {"I32", 4, std::nullopt}, {"U32", 4, std::nullopt}, {"I16", 2, std::nullopt},
      {"U16", 2, std::nullopt}, {"I8", 1, std::nullopt},  {"U8", 1, std::nullopt},
      {"BOOL", 1, std::nullopt}, {"F8_E4M3", 1, std::nullopt}, {"F8_E5M2", 1, std::nullopt},
      {"F8_E8M0", 1, std::nullopt}, {"C64", 8, std::nullopt},
  };
  for (const SafetensorsDType& t : kTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// One tensor entry of the header, validated against the data section.
struct Entry {
  std::string name;
  const SafetensorsDType* dtype = nullptr;
  std::string dtype_name;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& path, uint64_t data_size) : path_(path), data_size_(data_size) {}

  absl::Status Error(std::string_view tensor, std::string_view what) const {
    return InvalidModelError(absl::StrCat(path_, ": tensor '", AV(tensor), "': ", AV(what)));
  }

  absl::StatusOr<Entry> ParseEntry(const std::string& name, const json& value) const {
    if (!value.is_object()) {
      return Error(name, absl::StrCat("expected an object, got ", JsonTypeName(value)));
    }
    Entry e;
    e.name = name;

    auto dtype_it = value.find("dtype");
    if (dtype_it == value.end()) return Error(name, "missing \"dtype\"");
    if (!dtype_it->is_string()) {
      return Error(name, absl::StrCat("\"dtype\" must be a string, got ", JsonTypeName(*dtype_it)));
    }
    e.dtype_name = dtype_it->get_ref<const std::string&>();
    e.dtype = LookupDType(e.dtype_name);
    if (e.dtype == nullptr) {
      // Without its element size the tensor's bytes cannot be checked; a dtype the format
      // does not define yet is a file ember does not support, not a broken one.
      return UnsupportedError(
          absl::StrCat(path_, ": tensor '", name, "': unknown dtype \"", e.dtype_name, "\""));
    }

    auto shape_it = value.find("shape");
    if (shape_it == value.end()) return Error(name, "missing \"shape\"");
    if (!shape_it->is_array()) {
      return Error(name, absl::StrCat("\"shape\" must be an array, got ", JsonTypeName(*shape_it)));
    }
    // Elements, counting only non-zero dims, must fit in int64 so that products of ne[] never
    // overflow even when some other dim is 0.
    uint64_t nonzero_product = 1;
    uint64_t n_elements = 1;
    for (size_t i = 0; i < shape_it->size(); ++i) {
      const json& d = (*shape_it)[i];
      if (!d.is_number_unsigned()) {
        return Error(name, absl::StrCat("shape[", i, "] must be a non-negative integer, got ",
                                        d.is_number() ? d.dump() : JsonTypeName(d)));
      }
      uint64_t dim = d.get<uint64_t>();
      if (dim > 0 && (__builtin_mul_overflow(nonzero_product, dim, &nonzero_product) ||
                      nonzero_product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
        return Error(name, "shape has more elements than fit in 63 bits");
      }
      n_elements *= dim;  // <= nonzero_product, or 0
      e.shape.push_back(static_cast<int64_t>(dim));
    }

    auto offsets_it = value.find("data_offsets");
    if (offsets_it == value.end()) return Error(name, "missing \"data_offsets\"");
    const json& offsets = *offsets_it;
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      return Error(name, "\"data_offsets\" must be [begin, end] with non-negative integers");
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.begin > e.end) {
      return Error(name, absl::StrCat("data_offsets [", e.begin, ", ", e.end, "] end before they begin"));
    }
    if (e.end > data_size_) {
      return Error(name, absl::StrCat("data_offsets [", e.begin, ", ", e.end,
                                      "] run past the data section of ", data_size_, " bytes"));
    }
    uint64_t expected;
    if (__builtin_mul_overflow(n_elements, e.dtype->bytes, &expected) || expected != e.end - e.begin) {
      return Error(name, absl::StrCat("shape [", absl::StrJoin(e.shape, ", "), "] of ", e.dtype_name,
                                      " needs ", n_elements, " x ", e.dtype->bytes,
                                      " bytes but data_offsets span ", e.end - e.begin));
    }
    return e;
  }

 private:
  const std::string& path_;
  uint64_t data_size_;
};

absl::Status ParseMetadata(const std::string& path, const json& value,
                           absl::flat_hash_map<std::string, std::string>* out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_object()) {
    return InvalidModelError(absl::StrCat(path, ": \"__metadata__\" must be an object, got ",
                                          JsonTypeName(value)));
  }
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      return InvalidModelError(absl::StrCat(path, ": \"__metadata__\" key '", key,
                                            "' must map to a string, got ", JsonTypeName(v)));
    }
    (*out)[key] = v.get_ref<const std::string&>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Parse(
    std::unique_ptr<MappedFile> file) {
  const std::string& path = file->path();
  const uint64_t size = file->size();
  if (size < 8) {
    return InvalidModelError(absl::StrCat(path, ": truncated: ", size,
                                          " bytes, too short for the 8-byte header length"));
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file->data()[i];  // little-endian
  if (header_len == 0) return InvalidModelError(absl::StrCat(path, ": header length is 0"));
  if (header_len > size - 8) {
    return InvalidModelError(absl::StrCat(path, ": header length ", header_len,
                                          " runs past the end of the file (", size, " bytes)"));
  }
  if (header_len > kMaxHeaderBytes) {
    return InvalidModelError(absl::StrCat(path, ": header length ", header_len,
                                          " exceeds the limit of ", kMaxHeaderBytes, " bytes"));
  }
  std::string_view header_text(reinterpret_cast<const char*>(file->data() + 8), header_len);
  EMBER_ASSIGN_OR_RETURN(json header,
                         ParseJsonText(header_text, absl::StrCat(path, ": header")));
  if (!header.is_object()) {
    return InvalidModelError(
        absl::StrCat(path, ": header must be a JSON object, got ", JsonTypeName(header)));
  }

  const uint64_t data_size = size - 8 - header_len;
  const uint8_t* data = file->data() + 8 + header_len;
  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile());
  HeaderParser parser(path, data_size);
  std::vector<Entry> entries;
  entries.reserve(header.size());
  // json objects iterate in key order, so tensors() comes out sorted by name.
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      EMBER_RETURN_IF_ERROR(ParseMetadata(path, value, &st->metadata_));
      continue;
    }
    EMBER_ASSIGN_OR_RETURN(Entry e, parser.ParseEntry(name, value));
    entries.push_back(std::move(e));
  }

  // Tensors must not share bytes. Empty tensors occupy nothing and may sit anywhere.
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) {
    if (e.end > e.begin) by_offset.push_back(&e);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& prev = *by_offset[i - 1];
    const Entry& cur = *by_offset[i];
    if (cur.begin < prev.end) {
      return parser.Error(cur.name, absl::StrCat("data_offsets [", cur.begin, ", ", cur.end,
                                                 "] overlap tensor '", prev.name, "' [", prev.begin,
                                                 ", ", prev.end, "]"));
    }
  }

  for (Entry& e : entries) {
    std::string reason;
    if (!e.dtype->dtype.has_value()) {
      reason = absl::StrCat("dtype ", e.dtype_name, " is not supported (ember computes with F32, F16, BF16)");
    } else if (e.shape.size() > kMaxDims) {
      reason = absl::StrCat(e.shape.size(), " dimensions are not supported (at most ", kMaxDims, ")");
    }
    if (!reason.empty()) {
      st->unsupported_index_[e.name] = st->unsupported_.size();
      st->unsupported_.push_back(
          {std::move(e.name), std::move(e.dtype_name), std::move(e.shape), std::move(reason)});
      continue;
    }
    TensorView v;
    v.name = std::move(e.name);
    v.type = *e.dtype->dtype;
    v.n_dims = static_cast<int>(e.shape.size());
    for (int i = 0; i < v.n_dims; ++i) v.ne[i] = e.shape[v.n_dims - 1 - i];  // innermost first
    v.data = data + e.begin;
    v.nbytes = e.end - e.begin;
    st->index_[v.name] = st->tensors_.size();
    st->tensors_.push_back(std::move(v));
  }
  st->file_ = std::move(file);
  return st;
}

const TensorView* SafetensorsFile::FindTensor(std::string_view name) const {
  auto it = index_.find(AV(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const UnsupportedTensor* SafetensorsFile::FindUnsupported(std::string_view name) const {
  auto it = unsupported_index_.find(AV(name));
  return it == unsupported_index_.end() ? nullptr : &unsupported_[it->second];
}

absl::Status SafetensorsFile::UnsupportedTensorError(const UnsupportedTensor& t) const {
  return UnsupportedError(absl::StrCat(path(), ": tensor '", t.name, "' (", t.dtype, " [",
                                       absl::StrJoin(t.shape, ", "), "]): ", t.reason));
}

absl::StatusOr<const TensorView*> SafetensorsFile::GetTensor(std::string_view name) const {
  if (const TensorView* v = FindTensor(name)) return v;
  if (const UnsupportedTensor* u = FindUnsupported(name)) return UnsupportedTensorError(*u);
  return InvalidModelError(absl::StrCat(path(), ": no tensor '", AV(name), "'"));
}

}  // namespace ember
