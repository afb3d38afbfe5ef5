// GgufFile on malformed and hostile files: each must fail with the right status code and a
// message that names the problem, without reading out of bounds or allocating from an
// unchecked count.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/format/gguf.h"
#include "lib/format/gguf_writer.h"
#include "tests/support/test_support.h"

// Records the largest single allocation while armed, so tests can show that no allocation
// was sized from an unchecked count.
namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest_allocation{0};
}  // namespace

__attribute__((noinline)) void* operator new(size_t n) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    size_t prev = g_largest_allocation.load(std::memory_order_relaxed);
    while (n > prev && !g_largest_allocation.compare_exchange_weak(prev, n)) {
    }
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace ember {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kString = 8, kArray = 9, kU32 = 4, kI32 = 5, kBool = 7, kF32Type = 0;

// Hand-assembled GGUF bytes, for fields the writer would never produce.
struct Raw {
  std::string b;
  Raw& U32(uint32_t v) { return Put(&v, 4); }
  Raw& U64(uint64_t v) { return Put(&v, 8); }
  Raw& Str(std::string_view s) {
    U64(s.size());
    b.append(s.data(), s.size());
    return *this;
  }
  Raw& Bytes(std::string_view s) {
    b.append(s.data(), s.size());
    return *this;
  }
  Raw& Put(const void* p, size_t n) {
    b.append(static_cast<const char*>(p), n);
    return *this;
  }
  Raw& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    b.append("GGUF");
    U32(version);
    U64(n_tensors);
    return U64(n_kv);
  }
  Raw& KvU32(std::string_view key, uint32_t v) { return Str(key).U32(kU32).U32(v); }
  Raw& Tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    return U32(type).U64(offset);
  }
  // Zero padding to the next multiple of `a`, then `n` data bytes.
  Raw& Data(size_t n, size_t a = 32) {
    b.append((a - b.size() % a) % a, '\0');
    b.append(n, '\x7f');
    return *this;
  }
};

struct Result {
  absl::Status status;
  size_t largest_allocation;
};

Result Parse(std::string_view bytes) {
  std::unique_ptr<MappedFile> file = MappedFile::FromBuffer(
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
      "hostile.gguf");
  g_largest_allocation = 0;
  g_tracking = true;
  absl::Status s = GgufFile::Parse(std::move(file)).status();
  g_tracking = false;
  return {s, g_largest_allocation.load()};
}

// Fails with `code`, names the file and every piece of `needles`, and allocated nothing
// much larger than the input.
void ExpectError(const std::string& bytes, absl::StatusCode code,
                 std::vector<std::string> needles) {
  Result r = Parse(bytes);
  ASSERT_FALSE(r.status.ok()) << "parsed " << bytes.size() << " hostile bytes";
  EXPECT_EQ(r.status.code(), code) << r.status;
  std::string message(r.status.message());
  EXPECT_THAT(message, HasSubstr("hostile.gguf: "));
  for (const std::string& n : needles) EXPECT_THAT(message, HasSubstr(n));
  EXPECT_LE(r.largest_allocation, 4096 + 4 * bytes.size()) << message;
}

constexpr auto kInvalid = absl::StatusCode::kDataLoss;
constexpr auto kUnsupported = absl::StatusCode::kUnimplemented;

// A small valid file with every kind of field, for the truncation sweep.
std::string SmallValidFile() {
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddUint32("llama.block_count", 1);
  w.AddFloat32("f", 1.5f);
  w.AddBool("b", true);
  w.AddUint64("u64", 7);
  w.AddStringArray("tokens", std::vector<std::string>{"<s>", "</s>", "hello"});
  w.AddFloat32Array("scores", std::vector<float>{0, -1, -2});
  EXPECT_TRUE(w.AddTensor("token_embd.weight", DType::kF32, {4, 3}, std::string(48, '\1')).ok());
  EXPECT_TRUE(w.AddTensor("q8", DType::kQ8_0, {32}, std::string(34, '\2')).ok());
  EXPECT_TRUE(w.AddTensor("norm", DType::kF32, {4}, std::string(16, '\3')).ok());
  return *w.ToBytes();
}

TEST(GgufHostile, SmallValidFileParses) {
  std::string bytes = SmallValidFile();
  Result r = Parse(bytes);
  EXPECT_TRUE(r.status.ok()) << r.status;
}

TEST(GgufHostile, EveryPrefixOfSmallFileFails) {
  const std::string bytes = SmallValidFile();
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    Result r = Parse(bytes.substr(0, n));
    ASSERT_FALSE(r.status.ok());
    EXPECT_EQ(r.status.code(), kInvalid) << r.status;
    std::string message(r.status.message());
    EXPECT_THAT(message, HasSubstr("at offset"));
    EXPECT_TRUE(message.find("truncated") != std::string::npos ||
                message.find("past the end") != std::string::npos ||
                message.find("cannot fit") != std::string::npos)
        << message;
    EXPECT_LE(r.largest_allocation, 4096u);
  }
}

TEST(GgufHostile, PrefixesOfRealFixtureFail) {
  const std::string bytes =
      ::ember::testing::ReadFileBytes(::ember::testing::TestDataPath("models/stories260K.gguf"));
  ASSERT_EQ(bytes.size(), 1185344u);
  // Every prefix that ends inside the header (14138 bytes) or the padding after it, then a
  // sweep through the tensor data.
  for (size_t n = 0; n < bytes.size(); n += (n < 14200 ? 1 : 4093)) {
    SCOPED_TRACE(n);
    Result r = Parse(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.status.ok());
    EXPECT_EQ(r.status.code(), kInvalid) << r.status;
    EXPECT_LE(r.largest_allocation, 4096 + 4 * n);
  }
  // The last byte matters too: it belongs to output.weight.
  Result r = Parse(std::string_view(bytes).substr(0, bytes.size() - 1));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("'output.weight'"));
}

TEST(GgufHostile, WrongMagic) {
  ExpectError(Raw().Bytes("GGUG").U32(3).U64(0).U64(0).b, kInvalid, {"magic at offset 0", "'GGUG'"});
  ExpectError(Raw().Bytes("ggml").U32(3).U64(0).U64(0).b, kInvalid, {"not a GGUF file"});
  ExpectError(std::string("\x00\xff\x01", 3), kInvalid, {"magic", "truncated"});
  ExpectError("", kInvalid, {"magic"});
}

TEST(GgufHostile, UnsupportedVersions) {
  ExpectError(Raw().Header(0, 0, 1).b, kUnsupported, {"version at offset 4", "version 1"});
  ExpectError(Raw().Header(0, 0, 4).b, kUnsupported, {"version 4"});
  ExpectError(Raw().Header(0, 0, 0).b, kUnsupported, {"version 0"});
  ExpectError(Raw().Header(0, 0, 0x03000000).b, kUnsupported, {"big-endian"});
  // v2 has the same layout as v3 and is accepted.
  EXPECT_TRUE(Parse(Raw().Header(0, 0, 2).b).status.ok());
  EXPECT_TRUE(Parse(Raw().Header(0, 0, 3).b).status.ok());
}

TEST(GgufHostile, LyingCounts) {
  ExpectError(Raw().Header(0, uint64_t{1} << 60).b, kInvalid,
              {"metadata count at offset 16", "1152921504606846976", "cannot fit"});
  ExpectError(Raw().Header(uint64_t{1} << 60, 0).b, kInvalid,
              {"tensor count at offset 8", "1152921504606846976"});
  ExpectError(Raw().Header(~uint64_t{0}, ~uint64_t{0}).b, kInvalid, {"count"});
  // Counts that fit the bound but not the contents.
  ExpectError(Raw().Header(0, 2).KvU32("a", 1).Bytes(std::string(20, '\0')).b, kInvalid,
              {"metadata key #1", "empty key"});
  ExpectError(Raw().Header(0, 3).KvU32("a", 1).KvU32("b", 2).Bytes(std::string(8, '\x40')).b,
              kInvalid, {"metadata key #2 at offset 58", "string length", "past the end"});
}

TEST(GgufHostile, StringLengthsPastTheEnd) {
  ExpectError(Raw().Header(0, 1).U64(uint64_t{1} << 63).Bytes("abcdefghijklmnop").b, kInvalid,
              {"metadata key #0 at offset 24", "string length 9223372036854775808"});
  ExpectError(Raw().Header(0, 1).U64(100).Bytes("abcdefghijklm").b, kInvalid,
              {"metadata key #0", "string length 100", "past the end"});
  ExpectError(Raw().Header(0, 1).Str("key").U32(kString).U64(~uint64_t{0}).Bytes("abcdefgh").b, kInvalid,
              {"metadata 'key'", "string length 18446744073709551615"});
  ExpectError(Raw().Header(1, 0).U64(1000).Bytes(std::string(40, 'x')).b, kInvalid,
              {"tensor #0 name at offset 24", "string length 1000"});
}

TEST(GgufHostile, ArrayCountsPastTheEnd) {
  ExpectError(Raw().Header(0, 1).Str("a").U32(kArray).U32(kU32).U64(uint64_t{1} << 62).U32(1).b,
              kInvalid, {"metadata 'a'", "array of 4611686018427387904 elements"});
  // count * 4 wraps to a small number in 64 bits: must still be caught.
  ExpectError(Raw().Header(0, 1).Str("a").U32(kArray).U32(kU32).U64((uint64_t{1} << 62) + 1).U32(1).b,
              kInvalid, {"array of 4611686018427387905 elements"});
  ExpectError(Raw().Header(0, 1).Str("tokens").U32(kArray).U32(kString).U64(uint64_t{1} << 60).Str("x").b,
              kInvalid, {"metadata 'tokens'", "array of 1152921504606846976 strings"});
  // Fits the 8-bytes-per-string bound, but the strings are not there.
  ExpectError(Raw().Header(0, 1).Str("tokens").U32(kArray).U32(kString).U64(3).Str("a").Str("bb").U64(5).b,
              kInvalid, {"metadata 'tokens' element 2", "string length 5"});
  ExpectError(Raw().Header(0, 1).Str("a").U32(kArray).U32(kU32).U64(3).U32(1).U32(2).b, kInvalid,
              {"metadata 'a'", "array of 3 elements of 4 bytes"});
}

TEST(GgufHostile, UnknownValueTypes) {
  ExpectError(Raw().Header(0, 1).Str("k").U32(13).U32(0).b, kInvalid,
              {"metadata 'k' at offset 33", "unknown value type 13"});
  ExpectError(Raw().Header(0, 1).Str("k").U32(0xFFFFFFFF).U32(0).b, kInvalid,
              {"unknown value type 4294967295"});
  ExpectError(Raw().Header(0, 1).Str("k").U32(kArray).U32(99).U64(0).b, kInvalid,
              {"unknown array element type 99"});
  ExpectError(Raw().Header(0, 1).Str("k").U32(kArray).U32(kArray).U64(0).b, kUnsupported,
              {"metadata 'k'", "nested arrays"});
  ExpectError(Raw().Header(0, 1).Str("k").U32(kBool).Bytes("\x02").b, kInvalid,
              {"bool value 2"});
  ExpectError(Raw().Header(0, 1).Str("k").U32(kArray).U32(kBool).U64(3).Bytes(std::string("\x01\x00\x05", 3)).b,
              kInvalid, {"bool element 2 has value 5"});
}

TEST(GgufHostile, TensorDims) {
  ExpectError(Raw().Header(1, 0).Tensor("t", {}, kF32Type, 0).Data(64).b, kInvalid,
              {"tensor 't' at offset 33", "n_dims 0"});
  ExpectError(Raw().Header(1, 0).Tensor("t", {1, 1, 1, 1, 1}, kF32Type, 0).Data(64).b, kInvalid,
              {"tensor 't'", "n_dims 5"});
  ExpectError(Raw().Header(1, 0).Str("t").U32(0xFFFFFFFF).Bytes(std::string(40, '\0')).b, kInvalid, {"n_dims 4294967295"});
  ExpectError(Raw().Header(1, 0).Tensor("t", {4, 0}, kF32Type, 0).Data(64).b, kInvalid,
              {"tensor 't' at offset 45", "dimension 1 has invalid size 0"});
  ExpectError(Raw().Header(1, 0).Tensor("t", {~uint64_t{0}}, kF32Type, 0).Data(64).b, kInvalid,
              {"dimension 0 has invalid size 18446744073709551615"});
  ExpectError(Raw().Header(1, 0).Tensor("t", {uint64_t{1} << 32, uint64_t{1} << 32}, kF32Type, 0).Data(64).b,
              kInvalid, {"tensor 't'", "element count overflows"});
  // 2^62 elements fit in int64, their 2^64 bytes do not.
  ExpectError(Raw().Header(1, 0).Tensor("t", {uint64_t{1} << 31, uint64_t{1} << 31}, kF32Type, 0).Data(64).b,
              kInvalid, {"byte size overflows"});
  // Big but representable: the data is simply not there.
  ExpectError(Raw().Header(1, 0).Tensor("t", {uint64_t{1} << 20, uint64_t{1} << 20}, kF32Type, 0).Data(64).b,
              kInvalid, {"tensor 't'", "past the end of the file"});
  // One huge row: 2^61 elements fit in int64, 2^63 bytes do not (a fuzzer find: the row
  // size itself overflowed).
  ExpectError(Raw().Header(1, 0).Tensor("t", {uint64_t{1} << 61}, kF32Type, 0).Data(64).b, kInvalid,
              {"byte size overflows"});
  ExpectError(Raw().Header(1, 0).Tensor("t", {uint64_t{1} << 62}, 1, 0).Data(64).b, kInvalid,
              {"byte size overflows"});
  // Q8_0 rows are whole blocks of 32.
  ExpectError(Raw().Header(1, 0).Tensor("t", {16}, 8, 0).Data(64).b, kInvalid,
              {"row length 16", "Q8_0", "32"});
}

TEST(GgufHostile, TensorTypes) {
  ExpectError(Raw().Header(1, 0).Tensor("blk.0.w", {32}, 99, 0).Data(64).b, kUnsupported,
              {"tensor 'blk.0.w' at offset 51", "unknown ggml type id 99"});
  ExpectError(Raw().Header(1, 0).Tensor("blk.0.w", {32}, 3, 0).Data(64).b, kUnsupported,
              {"tensor 'blk.0.w'", "Q4_1", "id 3"});
  ExpectError(Raw().Header(1, 0).Tensor("t", {32}, 4, 0).Data(64).b, kUnsupported,
              {"unknown ggml type id 4"});
}

TEST(GgufHostile, TensorOffsets) {
  // A 64-byte F32 tensor at 1 << 63: begin overflows or lands past the end.
  ExpectError(Raw().Header(1, 0).Tensor("t", {16}, kF32Type, uint64_t{1} << 63).Data(64).b, kInvalid,
              {"tensor 't' at offset 49", "past the end"});
  ExpectError(Raw().Header(1, 0).Tensor("t", {16}, kF32Type, ~uint64_t{0} - 31).Data(64).b, kInvalid,
              {"tensor 't'", "past the end"});
  // One byte short.
  ExpectError(Raw().Header(1, 0).Tensor("t", {16}, kF32Type, 0).Data(63).b, kInvalid,
              {"tensor 't'", "past the end of the file"});
  EXPECT_TRUE(Parse(Raw().Header(1, 0).Tensor("t", {16}, kF32Type, 0).Data(64).b).status.ok());
  // Misaligned.
  ExpectError(Raw().Header(1, 0).Tensor("t", {16}, kF32Type, 4).Data(128).b, kInvalid,
              {"tensor 't' at offset 49", "data offset 4 is not a multiple of the alignment 32"});
  // Overlapping, in either order.
  ExpectError(Raw().Header(2, 0).Tensor("a", {16}, kF32Type, 0).Tensor("b", {16}, kF32Type, 32).Data(128).b,
              kInvalid, {"tensor 'b'", "overlaps tensor 'a' [0, 64)"});
  ExpectError(Raw().Header(2, 0).Tensor("a", {16}, kF32Type, 32).Tensor("b", {16}, kF32Type, 0).Data(128).b,
              kInvalid, {"tensor 'a'", "overlaps tensor 'b'"});
  ExpectError(Raw().Header(2, 0).Tensor("a", {8}, kF32Type, 0).Tensor("b", {8}, kF32Type, 0).Data(128).b,
              kInvalid, {"overlaps"});
  // Adjacent is fine, and so are tensors listed out of order.
  EXPECT_TRUE(Parse(Raw().Header(2, 0).Tensor("a", {16}, kF32Type, 64).Tensor("b", {16}, kF32Type, 0).Data(128).b)
                  .status.ok());
  // The data section itself starts past the end (header ends mid-alignment).
  ExpectError(Raw().Header(1, 0).Tensor("t", {1}, kF32Type, 0).b, kInvalid, {"past the end"});
}

TEST(GgufHostile, Alignment) {
  auto with_alignment = [](Raw value) {
    Raw r;
    r.Header(1, 1).Str("general.alignment").Bytes(value.b).Tensor("t", {16}, kF32Type, 0).Data(64, 64);
    return r.b;
  };
  ExpectError(with_alignment(Raw().U32(kU32).U32(0)), kInvalid,
              {"'general.alignment'", "value 0 is not a positive power of two"});
  ExpectError(with_alignment(Raw().U32(kU32).U32(3)), kInvalid, {"value 3 is not a positive power of two"});
  ExpectError(with_alignment(Raw().U32(kU32).U32(96)), kInvalid, {"value 96"});
  ExpectError(with_alignment(Raw().U32(kI32).U32(static_cast<uint32_t>(-32))), kInvalid, {"value -32"});
  ExpectError(with_alignment(Raw().U32(kString).Str("32")), kInvalid, {"'general.alignment'", "not an integer"});
  EXPECT_TRUE(Parse(with_alignment(Raw().U32(kU32).U32(64))).status.ok());
  EXPECT_TRUE(Parse(with_alignment(Raw().U32(kU32).U32(1))).status.ok());
  // Power of two, but the data section would start beyond the file.
  ExpectError(with_alignment(Raw().U32(10).U64(uint64_t{1} << 63)), kInvalid, {"data section", "past the end"});
  ExpectError(with_alignment(Raw().U32(kU32).U32(1u << 31)), kInvalid, {"past the end"});
  // With alignment 64 an offset of 32 is misaligned.
  Raw r;
  r.Header(1, 1).Str("general.alignment").U32(kU32).U32(64).Tensor("t", {16}, kF32Type, 32).Data(128, 64);
  ExpectError(r.b, kInvalid, {"not a multiple of the alignment 64"});
}

TEST(GgufHostile, DuplicateNames) {
  ExpectError(Raw().Header(0, 2).KvU32("a.b", 1).KvU32("a.b", 2).b, kInvalid,
              {"metadata key #1 at offset 43", "duplicate key 'a.b'"});
  ExpectError(Raw().Header(2, 0).Tensor("w", {8}, kF32Type, 0).Tensor("w", {8}, kF32Type, 32).Data(64).b,
              kInvalid, {"tensor #1 name", "duplicate tensor name 'w'"});
  ExpectError(Raw().Header(1, 0).Tensor("", {8}, kF32Type, 0).Data(64).b, kInvalid, {"empty tensor name"});
}

TEST(GgufHostile, InvalidUtf8Names) {
  for (std::string bad : {std::string("\xFF"), std::string("a\xC0\x80"), std::string("\xED\xA0\x80"),
                          std::string("tail\xE2\x82"), std::string("\xF4\x90\x80\x80"),
                          std::string("\x80x")}) {
    SCOPED_TRACE(bad);
    ExpectError(Raw().Header(0, 1).KvU32(bad, 1).b, kInvalid, {"metadata key #0", "not valid UTF-8", "\\x"});
    ExpectError(Raw().Header(1, 0).Tensor(bad, {8}, kF32Type, 0).Data(64).b, kInvalid,
                {"tensor #0 name", "not valid UTF-8"});
  }
  // Multi-byte UTF-8 is fine.
  EXPECT_TRUE(Parse(Raw().Header(0, 1).KvU32("\xC3\xA9\xE2\x96\x81\xF0\x9F\x98\x80", 1).b).status.ok());
}

TEST(GgufHostile, HostileBytesAreEscapedInMessages) {
  std::string key = "\x1b[31m" + std::string(300, 'k');
  Result r = Parse(Raw().Header(0, 2).KvU32(key, 1).KvU32(key, 1).b);
  std::string message(r.status.message());
  EXPECT_THAT(message, HasSubstr("\\x1b[31m"));
  EXPECT_THAT(message, HasSubstr("(305 bytes)"));
  EXPECT_LT(message.size(), 250u);
}

// A file claiming a billion-entry string array in a few bytes never reserves for it.
TEST(GgufHostile, AbsurdSizesAllocateNothingBig) {
  Raw r;
  r.Header(0, 1).Str("tokens").U32(kArray).U32(kString).U64(uint64_t{1} << 30);
  for (int i = 0; i < 100; ++i) r.Str("tok");
  Result res = Parse(r.b);
  EXPECT_EQ(res.status.code(), kInvalid);
  EXPECT_LE(res.largest_allocation, 4096 + 4 * r.b.size());
  // The same without lying parses, and allocates in proportion.
  Raw ok;
  ok.Header(0, 1).Str("tokens").U32(kArray).U32(kString).U64(100);
  for (int i = 0; i < 100; ++i) ok.Str("tok");
  Result good = Parse(ok.b);
  EXPECT_TRUE(good.status.ok()) << good.status;
  EXPECT_GE(good.largest_allocation, 100 * sizeof(std::string_view));
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Inputs found by fuzz/gguf_fuzz.cc, kept as regressions.
TEST(GgufHostile, FuzzerFinds) {
  // Row of 0x6700000000000010 F32 values: its byte size overflowed inside RowBytes (UBSan).
  ExpectError(FromHex("474755460300000002000000000000000200000000000000110000000000000067656e6572616c2e"
                      "616c69676e6d6c6e7404000000400000001500000000000000746f6b656e697a65722e67676d6c"
                      "2e73636f7265730900000006000000020000000000000000000000000080bf01000000000000"
                      "00610100000010000000000000670000000000000000000000000005050505050505050505"
                      "050505050505050505050505050505050505050505050505050505050505050505050505050505"
                      "05050505050505050505050505050505050505050505050606060606060606060606060606"),
              kInvalid, {"tensor 'a'", "byte size overflows"});
}

}  // namespace
}  // namespace ember
