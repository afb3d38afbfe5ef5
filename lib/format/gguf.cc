#include "lib/format/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace ember {
namespace {

constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;
// Smallest possible encodings, used to bound counts by the bytes that remain before
// anything is allocated for them.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, 1 dim, type, offset

}  // namespace

int GgufScalarSize(uint32_t type) {
  switch (static_cast<GgufType>(type)) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return -1;
}

namespace {

std::string TypeName(GgufType t) {
  static const char* const kNames[] = {"u8",  "i8",   "u16",   "i16", "u32", "i32", "f32",
                                       "bool", "string", "array", "u64", "i64", "f64"};
  uint32_t id = static_cast<uint32_t>(t);
  return id < 13 ? kNames[id] : absl::StrCat("type ", id);
}

bool IsInteger(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kUint16: case GgufType::kInt16:
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kUint64: case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}

bool IsSigned(GgufType t) {
  return t == GgufType::kInt8 || t == GgufType::kInt16 || t == GgufType::kInt32 ||
         t == GgufType::kInt64;
}

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // GGUF is little-endian, like every host ember targets
  return v;
}

// Decodes one fixed-size element at `p` (the caller has checked its size) into `out`.
void DecodeScalar(GgufType type, const uint8_t* p, GgufValue* out) {
  out->type = type;
  switch (type) {
    case GgufType::kUint8: out->u = Load<uint8_t>(p); break;
    case GgufType::kBool: out->u = Load<uint8_t>(p); break;
    case GgufType::kUint16: out->u = Load<uint16_t>(p); break;
    case GgufType::kUint32: out->u = Load<uint32_t>(p); break;
    case GgufType::kUint64: out->u = Load<uint64_t>(p); break;
    case GgufType::kInt8: out->i = Load<int8_t>(p); break;
    case GgufType::kInt16: out->i = Load<int16_t>(p); break;
    case GgufType::kInt32: out->i = Load<int32_t>(p); break;
    case GgufType::kInt64: out->i = Load<int64_t>(p); break;
    case GgufType::kFloat32: out->f = Load<float>(p); return;
    case GgufType::kFloat64: out->f = Load<double>(p); return;
    default: return;
  }
  // Widen integers into every representation that holds them exactly.
  if (IsSigned(type)) {
    out->u = out->i >= 0 ? static_cast<uint64_t>(out->i) : 0;
    out->f = static_cast<double>(out->i);
  } else {
    out->i = out->u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? static_cast<int64_t>(out->u)
                 : std::numeric_limits<int64_t>::max();
    out->f = static_cast<double>(out->u);
  }
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) { ++i; continue; }
    int len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return false;
    if (n - i < static_cast<size_t>(len)) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// A name quoted for an error message: printable ASCII kept, everything else escaped, long
// names shortened, so that hostile bytes never end up raw in a log line.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (s.size() > kMaxShown) absl::StrAppend(&out, "...(", s.size(), " bytes)");
  out.push_back('\'');
  return out;
}

// Reads the header front to back; every read is checked against the bytes that remain.
class Cursor {
 public:
  Cursor(const std::string& path, absl::Span<const uint8_t> bytes) : path_(path), bytes_(bytes) {}

  uint64_t offset() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  uint64_t size() const { return bytes_.size(); }

  // "<path>: <what> at offset N: <problem>"
  absl::Status Invalid(absl::string_view what, uint64_t at, absl::string_view problem) const {
    return InvalidModelError(absl::StrCat(path_, ": ", what, " at offset ", at, ": ", problem));
  }
  absl::Status Unsupported(absl::string_view what, uint64_t at, absl::string_view problem) const {
    return UnsupportedError(absl::StrCat(path_, ": ", what, " at offset ", at, ": ", problem));
  }

  absl::StatusOr<const uint8_t*> Take(uint64_t n, absl::string_view what) {
    if (n > remaining()) {
      return Invalid(what, pos_,
                     absl::StrCat("file truncated: needs ", n, " bytes but only ", remaining(),
                                  " remain"));
    }
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  absl::StatusOr<uint32_t> U32(absl::string_view what) {
    EMBER_ASSIGN_OR_RETURN(const uint8_t* p, Take(4, what));
    return Load<uint32_t>(p);
  }
  absl::StatusOr<uint64_t> U64(absl::string_view what) {
    EMBER_ASSIGN_OR_RETURN(const uint8_t* p, Take(8, what));
    return Load<uint64_t>(p);
  }
  // A u64 length followed by that many bytes.
  absl::StatusOr<std::string_view> String(absl::string_view what) {
    uint64_t at = pos_;
    EMBER_ASSIGN_OR_RETURN(uint64_t len, U64(what));
    if (len > remaining()) {
      return Invalid(what, at,
                     absl::StrCat("string length ", len, " runs past the end of the file (",
                                  remaining(), " bytes remain)"));
    }
    EMBER_ASSIGN_OR_RETURN(const uint8_t* p, Take(len, what));
    return std::string_view(reinterpret_cast<const char*>(p), len);
  }

 private:
  const std::string& path_;
  absl::Span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
};

// Parses the value of type `type_id` at the cursor into `out`.
absl::Status ParseValue(Cursor& in, uint32_t type_id, uint64_t type_at, const std::string& what,
                        GgufValue* out) {
  int size = GgufScalarSize(type_id);
  if (size < 0) {
    return in.Invalid(what, type_at, absl::StrCat("unknown value type ", type_id));
  }
  GgufType type = static_cast<GgufType>(type_id);
  out->type = type;
  uint64_t at = in.offset();
  if (size > 0) {
    EMBER_ASSIGN_OR_RETURN(const uint8_t* p, in.Take(size, what));
    DecodeScalar(type, p, out);
    if (type == GgufType::kBool && out->u > 1) {
      return in.Invalid(what, at, absl::StrCat("bool value ", out->u, " is neither 0 nor 1"));
    }
    return absl::OkStatus();
  }
  if (type == GgufType::kString) {
    EMBER_ASSIGN_OR_RETURN(out->str, in.String(what));
    return absl::OkStatus();
  }

  // Array: element type, count, elements.
  EMBER_ASSIGN_OR_RETURN(uint32_t elem_id, in.U32(what));
  EMBER_ASSIGN_OR_RETURN(uint64_t count, in.U64(what));
  int elem_size = GgufScalarSize(elem_id);
  if (elem_size < 0) {
    return in.Invalid(what, at, absl::StrCat("unknown array element type ", elem_id));
  }
  if (static_cast<GgufType>(elem_id) == GgufType::kArray) {
    return in.Unsupported(what, at, "nested arrays are not supported");
  }
  out->elem_type = static_cast<GgufType>(elem_id);
  out->count = count;
  uint64_t elems_at = in.offset();
  if (elem_size > 0) {
    if (count > in.remaining() / static_cast<uint64_t>(elem_size)) {
      return in.Invalid(what, elems_at,
                        absl::StrCat("array of ", count, " elements of ", elem_size,
                                     " bytes runs past the end of the file (", in.remaining(),
                                     " bytes remain)"));
    }
    EMBER_ASSIGN_OR_RETURN(out->array_data, in.Take(count * elem_size, what));
    if (out->elem_type == GgufType::kBool) {
      for (uint64_t k = 0; k < count; ++k) {
        if (out->array_data[k] > 1) {
          return in.Invalid(what, elems_at + k,
                            absl::StrCat("bool element ", k, " has value ", out->array_data[k]));
        }
      }
    }
    return absl::OkStatus();
  }
  // Strings: each takes at least its 8-byte length, which bounds the count.
  if (count > in.remaining() / 8) {
    return in.Invalid(what, elems_at,
                      absl::StrCat("array of ", count, " strings runs past the end of the file (",
                                   in.remaining(), " bytes remain)"));
  }
  out->strings.reserve(count);
  for (uint64_t k = 0; k < count; ++k) {
    EMBER_ASSIGN_OR_RETURN(std::string_view s, in.String(absl::StrCat(what, " element ", k)));
    out->strings.push_back(s);
  }
  return absl::OkStatus();
}

uint64_t RoundUp(uint64_t v, uint64_t alignment, bool* overflow) {
  uint64_t r = v % alignment;
  if (r == 0) return v;
  uint64_t out;
  *overflow = __builtin_add_overflow(v, alignment - r, &out);
  return out;
}

// What the tensor-info section says about one tensor, with where it said it.
struct TensorInfo {
  uint64_t info_at = 0;    // start of the tensor info
  uint64_t offset_at = 0;  // where its data offset field is
  uint64_t offset = 0;     // relative to the data section
};

}  // namespace

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Parse(std::unique_ptr<MappedFile> file) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->file_ = std::move(file);
  const std::string& path = g->file_->path();
  Cursor in(path, g->file_->bytes());

  // Header.
  EMBER_ASSIGN_OR_RETURN(const uint8_t* magic, in.Take(4, "magic"));
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    return in.Invalid("magic", 0,
                      absl::StrCat("not a GGUF file (expected 'GGUF', found ",
                                   Quote(std::string_view(reinterpret_cast<const char*>(magic), 4)),
                                   ")"));
  }
  EMBER_ASSIGN_OR_RETURN(g->version_, in.U32("version"));
  if (g->version_ != 2 && g->version_ != 3) {
    std::string why = absl::StrCat("unsupported GGUF version ", g->version_, " (ember reads 2 and 3)");
    if (g->version_ == 0x02000000u || g->version_ == 0x03000000u) why += "; big-endian files are not supported";
    return in.Unsupported("version", 4, why);
  }
  uint64_t tensor_count_at = in.offset();
  EMBER_ASSIGN_OR_RETURN(uint64_t tensor_count, in.U64("tensor count"));
  uint64_t kv_count_at = in.offset();
  EMBER_ASSIGN_OR_RETURN(uint64_t kv_count, in.U64("metadata count"));
  if (kv_count > in.remaining() / kMinKvBytes) {
    return in.Invalid("metadata count", kv_count_at,
                      absl::StrCat(kv_count, " key/value pairs cannot fit in the ", in.remaining(),
                                   " bytes that remain"));
  }
  if (tensor_count > in.remaining() / kMinTensorInfoBytes) {
    return in.Invalid("tensor count", tensor_count_at,
                      absl::StrCat(tensor_count, " tensor infos cannot fit in the ", in.remaining(),
                                   " bytes that remain"));
  }

  // Metadata.
  for (uint64_t k = 0; k < kv_count; ++k) {
    uint64_t key_at = in.offset();
    std::string what = absl::StrCat("metadata key #", k);
    EMBER_ASSIGN_OR_RETURN(std::string_view key, in.String(what));
    if (key.empty()) return in.Invalid(what, key_at, "empty key");
    if (!IsValidUtf8(key)) return in.Invalid(what, key_at, absl::StrCat("key ", Quote(key), " is not valid UTF-8"));
    std::string key_str(key);
    if (g->metadata_.contains(key_str)) {
      return in.Invalid(what, key_at, absl::StrCat("duplicate key ", Quote(key)));
    }
    what = absl::StrCat("metadata ", Quote(key));
    uint64_t type_at = in.offset();
    EMBER_ASSIGN_OR_RETURN(uint32_t type_id, in.U32(what));
    GgufValue value;
    EMBER_RETURN_IF_ERROR(ParseValue(in, type_id, type_at, what, &value));
    g->keys_.push_back(key_str);
    g->metadata_.emplace(std::move(key_str), std::move(value));
  }

  // Alignment of the data section and of every tensor in it.
  uint64_t alignment = kDefaultAlignment;
  if (const GgufValue* v = g->Find("general.alignment")) {
    if (!IsInteger(v->type)) {
      return InvalidModelError(absl::StrCat(path, ": metadata 'general.alignment': a ",
                                            TypeName(v->type), " is not an integer"));
    }
    bool negative = IsSigned(v->type) && v->i < 0;
    if (negative || v->u == 0 || (v->u & (v->u - 1)) != 0) {
      return InvalidModelError(absl::StrCat(
          path, ": metadata 'general.alignment': value ",
          negative ? absl::StrCat(v->i) : absl::StrCat(v->u),
          " is not a positive power of two"));
    }
    alignment = v->u;
  }
  g->alignment_ = alignment;

  // Tensor infos.
  std::vector<TensorInfo> infos;
  for (uint64_t t = 0; t < tensor_count; ++t) {
    TensorInfo info;
    info.info_at = in.offset();
    std::string what = absl::StrCat("tensor #", t, " name");
    EMBER_ASSIGN_OR_RETURN(std::string_view name, in.String(what));
    if (name.empty()) return in.Invalid(what, info.info_at, "empty tensor name");
    if (!IsValidUtf8(name)) {
      return in.Invalid(what, info.info_at, absl::StrCat("name ", Quote(name), " is not valid UTF-8"));
    }
    if (g->tensor_index_.contains(std::string(name))) {
      return in.Invalid(what, info.info_at, absl::StrCat("duplicate tensor name ", Quote(name)));
    }
    what = absl::StrCat("tensor ", Quote(name));

    TensorView view;
    view.name = std::string(name);
    uint64_t dims_at = in.offset();
    EMBER_ASSIGN_OR_RETURN(uint32_t n_dims, in.U32(what));
    if (n_dims < 1 || n_dims > kMaxDims) {
      return in.Invalid(what, dims_at,
                        absl::StrCat("n_dims ", n_dims, " is not between 1 and ", kMaxDims));
    }
    view.n_dims = static_cast<int>(n_dims);
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim_at = in.offset();
      EMBER_ASSIGN_OR_RETURN(uint64_t dim, in.U64(what));
      if (dim == 0 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return in.Invalid(what, dim_at, absl::StrCat("dimension ", d, " has invalid size ", dim));
      }
      view.ne[d] = static_cast<int64_t>(dim);
      if (__builtin_mul_overflow(n_elements, view.ne[d], &n_elements)) {
        return in.Invalid(what, dims_at, "element count overflows 64 bits");
      }
    }
    uint64_t type_at = in.offset();
    EMBER_ASSIGN_OR_RETURN(uint32_t type_id, in.U32(what));
    const DTypeTraits* traits = GetDTypeTraits(type_id);
    if (traits == nullptr) {
      return in.Unsupported(what, type_at, absl::StrCat("unknown ggml type id ", type_id));
    }
    if (!traits->supported) {
      return in.Unsupported(what, type_at,
                            absl::StrCat("ggml type ", AV(traits->name), " (id ", type_id,
                                         ") is not supported by ember"));
    }
    view.type = static_cast<DType>(type_id);
    if (view.ne[0] % traits->block_elems != 0) {
      return in.Invalid(what, dims_at,
                        absl::StrCat("row length ", view.ne[0], " is not a multiple of the ",
                                     AV(traits->name), " block size ", traits->block_elems));
    }
    // RowBytes(type, ne[0]), computed here with an overflow check.
    int64_t nbytes;
    if (__builtin_mul_overflow(view.ne[0] / traits->block_elems, traits->block_bytes, &nbytes)) {
      return in.Invalid(what, dims_at, "byte size overflows 64 bits");
    }
    for (int d = 1; d < kMaxDims; ++d) {
      if (__builtin_mul_overflow(nbytes, view.ne[d], &nbytes)) {
        return in.Invalid(what, dims_at, "byte size overflows 64 bits");
      }
    }
    view.nbytes = static_cast<uint64_t>(nbytes);
    info.offset_at = in.offset();
    EMBER_ASSIGN_OR_RETURN(info.offset, in.U64(what));
    if (info.offset % alignment != 0) {
      return in.Invalid(what, info.offset_at,
                        absl::StrCat("data offset ", info.offset, " is not a multiple of the alignment ",
                                     alignment));
    }
    g->tensor_index_.emplace(view.name, g->tensors_.size());
    g->tensors_.push_back(std::move(view));
    infos.push_back(info);
  }

  // Data section: starts at the next multiple of the alignment after the header.
  bool overflow = false;
  uint64_t data_start = RoundUp(in.offset(), alignment, &overflow);
  if (tensor_count > 0 && (overflow || data_start > in.size())) {
    return in.Invalid("data section", in.offset(),
                      absl::StrCat("aligned start ", overflow ? std::string("(overflows)") : absl::StrCat(data_start),
                                   " is past the end of the file (", in.size(), " bytes)"));
  }
  g->data_offset_ = tensor_count > 0 ? data_start : std::min<uint64_t>(data_start, in.size());
  for (size_t t = 0; t < g->tensors_.size(); ++t) {
    TensorView& view = g->tensors_[t];
    uint64_t begin, end;
    if (__builtin_add_overflow(data_start, infos[t].offset, &begin) ||
        __builtin_add_overflow(begin, view.nbytes, &end) || end > in.size()) {
      return in.Invalid(absl::StrCat("tensor ", Quote(view.name)), infos[t].offset_at,
                        absl::StrCat("data [", infos[t].offset, ", +", view.nbytes,
                                     ") past the data section start ", data_start,
                                     " runs past the end of the file (", in.size(), " bytes)"));
    }
    view.data = g->file_->data() + begin;
  }

  // No two tensors may share bytes.
  std::vector<size_t> order(g->tensors_.size());
  for (size_t t = 0; t < order.size(); ++t) order[t] = t;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return infos[a].offset < infos[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const size_t prev = order[k - 1], cur = order[k];
    if (infos[cur].offset < infos[prev].offset + g->tensors_[prev].nbytes) {
      return in.Invalid(absl::StrCat("tensor ", Quote(g->tensors_[cur].name)), infos[cur].offset_at,
                        absl::StrCat("data at offset ", infos[cur].offset, " overlaps tensor ",
                                     Quote(g->tensors_[prev].name), " [", infos[prev].offset, ", ",
                                     infos[prev].offset + g->tensors_[prev].nbytes, ")"));
    }
  }
  return g;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = metadata_.find(AV(key));
  return it == metadata_.end() ? nullptr : &it->second;
}

const TensorView* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(AV(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

absl::Status GgufFile::WrongType(std::string_view key, const GgufValue& v,
                                 std::string_view wanted) const {
  std::string found = TypeName(v.type);
  if (v.type == GgufType::kArray) absl::StrAppend(&found, " of ", TypeName(v.elem_type));
  return InvalidModelError(absl::StrCat(path(), ": metadata ", Quote(key), ": expected ",
                                        AV(wanted), ", found ", found));
}

absl::StatusOr<std::optional<uint64_t>> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!IsInteger(v->type)) return WrongType(key, *v, "an integer");
  if (IsSigned(v->type) && v->i < 0) {
    return InvalidModelError(absl::StrCat(path(), ": metadata ", Quote(key), ": value ", v->i,
                                          " is negative"));
  }
  return v->u;
}

absl::StatusOr<std::optional<double>> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GgufType::kFloat32 && v->type != GgufType::kFloat64) {
    return WrongType(key, *v, "a float");
  }
  return v->f;
}

absl::StatusOr<std::optional<bool>> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GgufType::kBool) return WrongType(key, *v, "a bool");
  return v->u != 0;
}

absl::StatusOr<std::optional<std::string_view>> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GgufType::kString) return WrongType(key, *v, "a string");
  return v->str;
}

absl::StatusOr<std::vector<std::string_view>> GgufFile::GetStringArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return std::vector<std::string_view>();
  if (v->type != GgufType::kArray || v->elem_type != GgufType::kString) {
    return WrongType(key, *v, "an array of strings");
  }
  return v->strings;
}

absl::StatusOr<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return std::vector<float>();
  if (v->type != GgufType::kArray ||
      (v->elem_type != GgufType::kFloat32 && v->elem_type != GgufType::kFloat64)) {
    return WrongType(key, *v, "an array of floats");
  }
  std::vector<float> out(v->count);
  for (uint64_t k = 0; k < v->count; ++k) {
    out[k] = v->elem_type == GgufType::kFloat32
                 ? Load<float>(v->array_data + 4 * k)
                 : static_cast<float>(Load<double>(v->array_data + 8 * k));
  }
  return out;
}

absl::StatusOr<std::vector<int32_t>> GgufFile::GetInt32Array(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return std::vector<int32_t>();
  if (v->type != GgufType::kArray || !IsInteger(v->elem_type)) {
    return WrongType(key, *v, "an array of integers");
  }
  const int elem_size = GgufScalarSize(static_cast<uint32_t>(v->elem_type));
  std::vector<int32_t> out(v->count);
  for (uint64_t k = 0; k < v->count; ++k) {
    GgufValue e;
    DecodeScalar(v->elem_type, v->array_data + elem_size * k, &e);
    bool fits = IsSigned(v->elem_type)
                    ? e.i >= std::numeric_limits<int32_t>::min() &&
                          e.i <= std::numeric_limits<int32_t>::max()
                    : e.u <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
    if (!fits) {
      return InvalidModelError(absl::StrCat(path(), ": metadata ", Quote(key), ": element ", k,
                                            " does not fit in int32"));
    }
    out[k] = static_cast<int32_t>(IsSigned(v->elem_type) ? e.i : static_cast<int64_t>(e.u));
  }
  return out;
}

}  // namespace ember
