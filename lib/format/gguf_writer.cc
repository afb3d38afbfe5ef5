#include "lib/format/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/platform.h"

namespace ember {
namespace {

constexpr uint32_t kVersion = 3;

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian host
  out->append(b, sizeof(T));
}

void PutString(std::string* out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out->append(s.data(), s.size());
}

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

bool IsPowerOfTwo(uint32_t a) { return a != 0 && (a & (a - 1)) == 0; }

class StringSink : public GgufSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  absl::Status Write(const void* data, size_t n) override {
    out_->append(static_cast<const char*>(data), n);
    return absl::OkStatus();
  }

 private:
  std::string* out_;
};

class FileSink : public GgufSink {
 public:
  FileSink(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  absl::Status Write(const void* data, size_t n) override {
    if (n != 0 && std::fwrite(data, 1, n, f_) != n) {
      return IoError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

// Passes one tensor's bytes through, refusing more than it should have.
class CountingSink : public GgufSink {
 public:
  CountingSink(GgufSink& inner, std::string_view name, uint64_t limit)
      : inner_(inner), name_(name), limit_(limit) {}
  absl::Status Write(const void* data, size_t n) override {
    if (n > limit_ - written_) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", AV(name_), "': fill wrote more than ",
                                                     limit_, " bytes"));
    }
    written_ += n;
    return inner_.Write(data, n);
  }
  uint64_t written() const { return written_; }

 private:
  GgufSink& inner_;
  std::string_view name_;
  uint64_t limit_;
  uint64_t written_ = 0;
};

absl::Status WriteZeros(GgufSink& sink, uint64_t n) {
  static const char kZeros[256] = {};
  while (n > 0) {
    size_t k = n < sizeof(kZeros) ? n : sizeof(kZeros);
    EMBER_RETURN_IF_ERROR(sink.Write(kZeros, k));
    n -= k;
  }
  return absl::OkStatus();
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment != 32) AddUint32("general.alignment", alignment);
}

void GgufWriter::AddRaw(std::string key, uint32_t type_id, std::string encoded_value) {
  PutString(&kv_bytes_, key);
  Put<uint32_t>(&kv_bytes_, type_id);
  kv_bytes_ += encoded_value;
  ++kv_count_;
}

#define EMBER_GGUF_SCALAR_ADDER(Name, T, type_enum)            \
  void GgufWriter::Add##Name(std::string key, T v) {            \
    std::string enc;                                            \
    Put<T>(&enc, v);                                            \
    AddRaw(std::move(key), static_cast<uint32_t>(type_enum), std::move(enc)); \
  }
EMBER_GGUF_SCALAR_ADDER(Uint8, uint8_t, GgufType::kUint8)
EMBER_GGUF_SCALAR_ADDER(Int8, int8_t, GgufType::kInt8)
EMBER_GGUF_SCALAR_ADDER(Uint16, uint16_t, GgufType::kUint16)
EMBER_GGUF_SCALAR_ADDER(Int16, int16_t, GgufType::kInt16)
EMBER_GGUF_SCALAR_ADDER(Uint32, uint32_t, GgufType::kUint32)
EMBER_GGUF_SCALAR_ADDER(Int32, int32_t, GgufType::kInt32)
EMBER_GGUF_SCALAR_ADDER(Uint64, uint64_t, GgufType::kUint64)
EMBER_GGUF_SCALAR_ADDER(Int64, int64_t, GgufType::kInt64)
EMBER_GGUF_SCALAR_ADDER(Float32, float, GgufType::kFloat32)
EMBER_GGUF_SCALAR_ADDER(Float64, double, GgufType::kFloat64)
#undef EMBER_GGUF_SCALAR_ADDER

void GgufWriter::AddBool(std::string key, bool v) {
  AddRaw(std::move(key), static_cast<uint32_t>(GgufType::kBool), std::string(1, v ? 1 : 0));
}

void GgufWriter::AddString(std::string key, std::string_view v) {
  std::string enc;
  PutString(&enc, v);
  AddRaw(std::move(key), static_cast<uint32_t>(GgufType::kString), std::move(enc));
}

absl::Status GgufWriter::AddValue(std::string key, const GgufValue& v) {
  switch (v.type) {
    case GgufType::kUint8: AddUint8(std::move(key), static_cast<uint8_t>(v.u)); break;
    case GgufType::kInt8: AddInt8(std::move(key), static_cast<int8_t>(v.i)); break;
    case GgufType::kUint16: AddUint16(std::move(key), static_cast<uint16_t>(v.u)); break;
    case GgufType::kInt16: AddInt16(std::move(key), static_cast<int16_t>(v.i)); break;
    case GgufType::kUint32: AddUint32(std::move(key), static_cast<uint32_t>(v.u)); break;
    case GgufType::kInt32: AddInt32(std::move(key), static_cast<int32_t>(v.i)); break;
    case GgufType::kUint64: AddUint64(std::move(key), v.u); break;
    case GgufType::kInt64: AddInt64(std::move(key), v.i); break;
    case GgufType::kFloat32: AddFloat32(std::move(key), static_cast<float>(v.f)); break;
    case GgufType::kFloat64: AddFloat64(std::move(key), v.f); break;
    case GgufType::kBool: AddBool(std::move(key), v.u != 0); break;
    case GgufType::kString: AddString(std::move(key), v.str); break;
    case GgufType::kArray: {
      if (v.elem_type == GgufType::kString) {
        AddStringArray(std::move(key), std::vector<std::string>(v.strings.begin(), v.strings.end()));
        break;
      }
      const int elem = GgufScalarSize(static_cast<uint32_t>(v.elem_type));
      if (elem <= 0 || v.array_data == nullptr) {
        return UnsupportedError(absl::StrCat("metadata '", key, "': arrays of element type ",
                                             static_cast<uint32_t>(v.elem_type), " cannot be copied"));
      }
      AddArray(key, v.elem_type, v.count,
               std::string(reinterpret_cast<const char*>(v.array_data), v.count * static_cast<uint64_t>(elem)));
      break;
    }
  }
  return absl::OkStatus();
}

void GgufWriter::AddStringArray(std::string key, absl::Span<const std::string> v) {
  std::string enc;
  Put<uint32_t>(&enc, static_cast<uint32_t>(GgufType::kString));
  Put<uint64_t>(&enc, v.size());
  for (const std::string& s : v) PutString(&enc, s);
  AddRaw(std::move(key), static_cast<uint32_t>(GgufType::kArray), std::move(enc));
}

void GgufWriter::AddArray(std::string key, GgufType elem_type, uint64_t count, std::string raw) {
  std::string enc;
  Put<uint32_t>(&enc, static_cast<uint32_t>(elem_type));
  Put<uint64_t>(&enc, count);
  enc += raw;
  AddRaw(std::move(key), static_cast<uint32_t>(GgufType::kArray), std::move(enc));
}

void GgufWriter::AddFloat32Array(std::string key, absl::Span<const float> v) {
  AddArray(std::move(key), GgufType::kFloat32, v.size(),
           std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

void GgufWriter::AddInt32Array(std::string key, absl::Span<const int32_t> v) {
  AddArray(std::move(key), GgufType::kInt32, v.size(),
           std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int32_t)));
}

absl::Status GgufWriter::AddTensor(std::string name, DType type, std::vector<int64_t> ne,
                                   std::string bytes) {
  uint64_t size = bytes.size();
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  GgufTensorFill fill = [shared](GgufSink& sink) { return sink.Write(shared->data(), shared->size()); };
  // Checked here too so that a wrong byte count fails at AddTensor, not at write time.
  const uint64_t prev_data_size = data_size_;
  EMBER_RETURN_IF_ERROR(AddTensor(name, type, ne, std::move(fill)));
  if (tensors_.back().nbytes != size) {
    uint64_t want = tensors_.back().nbytes;
    data_size_ = prev_data_size;
    tensors_.pop_back();
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': ", size,
                                                   " bytes given, its type and shape need ", want));
  }
  return absl::OkStatus();
}

absl::Status GgufWriter::AddTensor(std::string name, DType type, std::vector<int64_t> ne,
                                   GgufTensorFill fill) {
  if (!IsPowerOfTwo(alignment_)) {
    return absl::InvalidArgumentError(absl::StrCat("alignment ", alignment_, " is not a power of two"));
  }
  if (ne.empty() || ne.size() > 4) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': ", ne.size(), " dims (1 to 4 allowed)"));
  }
  int64_t nbytes = RowBytes(type, ne[0]);
  if (nbytes <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': row length ", ne[0],
                                                   " is not a positive whole number of blocks"));
  }
  for (size_t d = 1; d < ne.size(); ++d) {
    if (ne[d] <= 0 || __builtin_mul_overflow(nbytes, ne[d], &nbytes)) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': bad dimension ", d, " = ", ne[d]));
    }
  }
  Tensor t{std::move(name), type, std::move(ne), static_cast<uint64_t>(nbytes),
           RoundUp(data_size_, alignment_), std::move(fill)};
  data_size_ = t.offset + t.nbytes;
  tensors_.push_back(std::move(t));
  return absl::OkStatus();
}

std::string GgufWriter::EncodeHeader() const {
  std::string h;
  h.append("GGUF", 4);
  Put<uint32_t>(&h, kVersion);
  Put<uint64_t>(&h, tensors_.size());
  Put<uint64_t>(&h, kv_count_);
  h += kv_bytes_;
  for (const Tensor& t : tensors_) {
    PutString(&h, t.name);
    Put<uint32_t>(&h, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) Put<uint64_t>(&h, static_cast<uint64_t>(d));
    Put<uint32_t>(&h, static_cast<uint32_t>(t.type));
    Put<uint64_t>(&h, t.offset);
  }
  return h;
}

uint64_t GgufWriter::DataStart() const {
  uint64_t header = 24 + kv_bytes_.size();
  for (const Tensor& t : tensors_) header += 8 + t.name.size() + 4 + 8 * t.ne.size() + 4 + 8;
  return tensors_.empty() ? header : RoundUp(header, alignment_);
}

uint64_t GgufWriter::FileSize() const { return DataStart() + data_size_; }

absl::Status GgufWriter::WriteTo(GgufSink& sink) const {
  if (!IsPowerOfTwo(alignment_)) {
    return absl::InvalidArgumentError(absl::StrCat("alignment ", alignment_, " is not a power of two"));
  }
  std::string header = EncodeHeader();
  EMBER_RETURN_IF_ERROR(sink.Write(header.data(), header.size()));
  uint64_t pos = header.size();
  const uint64_t data_start = DataStart();
  for (const Tensor& t : tensors_) {
    EMBER_RETURN_IF_ERROR(WriteZeros(sink, data_start + t.offset - pos));
    CountingSink counted(sink, t.name, t.nbytes);
    EMBER_RETURN_IF_ERROR(t.fill(counted));
    if (counted.written() != t.nbytes) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "': fill wrote ", counted.written(),
                                                     " bytes, expected ", t.nbytes));
    }
    pos = data_start + t.offset + t.nbytes;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GgufWriter::ToBytes() const {
  std::string out;
  StringSink sink(&out);
  EMBER_RETURN_IF_ERROR(WriteTo(sink));
  return out;
}

absl::Status GgufWriter::WriteFile(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = CreateFileForWriting(tmp);
  if (f == nullptr) return IoError(absl::StrCat(tmp, ": cannot create: ", std::strerror(errno)));
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  FileSink sink(f, tmp);
  absl::Status s = WriteTo(sink);
  if (std::fclose(f) != 0 && s.ok()) s = IoError(absl::StrCat(tmp, ": close failed: ", std::strerror(errno)));
  if (s.ok()) s = RenameReplacing(tmp, path);  // std::rename cannot replace a file on Windows
  if (!s.ok()) RemoveFileQuietly(tmp);
  return s;
}

}  // namespace ember
