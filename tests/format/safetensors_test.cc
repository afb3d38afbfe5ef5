#include "lib/format/safetensors.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "tests/format/safetensors_builder.h"
#include "tests/support/test_support.h"

namespace ember {
namespace {

using ::ember::testing::BuildSafetensors;
using ::ember::testing::FloatBytes;
using ::ember::testing::SafetensorsBytes;
using ::ember::testing::StTensor;
using ::ember::testing::TestDataPath;
using ::testing::HasSubstr;
using nlohmann::json;

constexpr absl::StatusCode kInvalidModel = absl::StatusCode::kDataLoss;
constexpr absl::StatusCode kUnsupported = absl::StatusCode::kUnimplemented;
constexpr absl::StatusCode kIo = absl::StatusCode::kUnavailable;

// Parses bytes under the name "test.safetensors" (which every message must carry). Views
// point into the bytes, so a copy is kept alive for the rest of the test program.
absl::StatusOr<std::unique_ptr<SafetensorsFile>> ParseBytes(const std::string& bytes) {
  static std::deque<std::string>* kept = new std::deque<std::string>();
  const std::string& buffer = kept->emplace_back(bytes);
  return SafetensorsFile::Parse(MappedFile::FromBuffer(
      {reinterpret_cast<const uint8_t*>(buffer.data()), buffer.size()}, "test.safetensors"));
}

// Parses a header given as JSON with `data` behind it; expects failure with `code` and a
// message that names the file and contains every one of `parts`.
void ExpectHeaderError(const json& header, const std::string& data, absl::StatusCode code,
                       std::vector<std::string> parts) {
  std::string bytes = SafetensorsBytes(header.dump(), data);
  auto st = ParseBytes(bytes);
  ASSERT_FALSE(st.ok()) << header.dump();
  EXPECT_EQ(st.status().code(), code) << st.status();
  EXPECT_THAT(std::string(st.status().message()), HasSubstr("test.safetensors"));
  for (const std::string& p : parts) {
    EXPECT_THAT(std::string(st.status().message()), HasSubstr(p)) << header.dump();
  }
}

json Entry(const std::string& dtype, json shape, uint64_t begin, uint64_t end) {
  return {{"dtype", dtype}, {"shape", std::move(shape)}, {"data_offsets", {begin, end}}};
}

TEST(SafetensorsTest, ParsesTensorsAsViewsInnermostFirst) {
  std::vector<float> w = {1, 2, 3, 4, 5, 6};
  std::string half = std::string("\x00\x3c\x00\x40\x00\x42\x00\x44", 8);  // F16 1, 2, 3, 4
  std::string bytes = BuildSafetensors({{"w", "F32", {2, 3}, FloatBytes(w)},
                                        {"h", "F16", {4}, half},
                                        {"b", "BF16", {1, 1, 2}, std::string("\x80\x3f\x00\x40", 4)}},
                                       json{{"format", "pt"}});
  auto st = ParseBytes(bytes);
  ASSERT_TRUE(st.ok()) << st.status();
  const SafetensorsFile& f = **st;
  ASSERT_EQ(f.tensors().size(), 3u);
  // Name order.
  EXPECT_EQ(f.tensors()[0].name, "b");
  EXPECT_EQ(f.tensors()[1].name, "h");
  EXPECT_EQ(f.tensors()[2].name, "w");

  const TensorView* t = f.FindTensor("w");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, DType::kF32);
  EXPECT_EQ(t->n_dims, 2);
  EXPECT_EQ(t->ne[0], 3);
  EXPECT_EQ(t->ne[1], 2);
  EXPECT_EQ(t->ne[2], 1);
  EXPECT_EQ(t->ne[3], 1);
  EXPECT_EQ(t->nbytes, 24u);
  EXPECT_EQ(t->n_elements(), 6);
  std::vector<float> got(6);
  std::memcpy(got.data(), t->data, 24);
  EXPECT_EQ(got, w);
  // Zero copy: views point into the buffer; "w" was written first, "h" right after it.
  EXPECT_EQ(f.FindTensor("h")->data - t->data, 24);
  EXPECT_EQ(f.FindTensor("b")->data - t->data, 32);

  const TensorView* h = f.FindTensor("h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, DType::kF16);
  EXPECT_EQ(h->n_dims, 1);
  EXPECT_EQ(h->ne[0], 4);
  EXPECT_EQ(std::memcmp(h->data, half.data(), 8), 0);

  const TensorView* b = f.FindTensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->type, DType::kBF16);
  EXPECT_EQ(b->n_dims, 3);
  EXPECT_EQ(b->ne[0], 2);
  EXPECT_EQ(b->ne[1], 1);
  EXPECT_EQ(b->ne[2], 1);

  EXPECT_EQ(f.FindTensor("missing"), nullptr);
  EXPECT_EQ(f.metadata().size(), 1u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_TRUE(f.unsupported_tensors().empty());
  EXPECT_EQ(f.path(), "test.safetensors");
  auto got_w = f.GetTensor("w");
  ASSERT_TRUE(got_w.ok());
  EXPECT_EQ(*got_w, t);
}

TEST(SafetensorsTest, ScalarsEmptyTensorsAndEmptyHeader) {
  // A scalar has shape [] and one element; empty tensors occupy no bytes and may share an
  // offset with anything.
  json header = {{"s", Entry("F32", json::array(), 0, 4)},
                 {"e1", Entry("F32", {0, 5}, 4, 4)},
                 {"e2", Entry("F16", {3, 0}, 0, 0)}};
  auto st = ParseBytes(SafetensorsBytes(header.dump(), FloatBytes({7.5f})));
  ASSERT_TRUE(st.ok()) << st.status();
  const TensorView* s = (*st)->FindTensor("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->n_dims, 0);
  EXPECT_EQ(s->n_elements(), 1);
  const TensorView* e1 = (*st)->FindTensor("e1");
  ASSERT_NE(e1, nullptr);
  EXPECT_EQ(e1->n_elements(), 0);
  EXPECT_EQ(e1->nbytes, 0u);
  EXPECT_EQ(e1->ne[0], 5);
  EXPECT_EQ(e1->ne[1], 0);

  auto empty = ParseBytes(SafetensorsBytes("{}", ""));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE((*empty)->tensors().empty());
}

TEST(SafetensorsTest, UnalignedDataIsAcceptedAndReadableWithMemcpy) {
  // The format does not align data; a U8 tensor pushes the F32 one to offset 1.
  json header = {{"u", Entry("U8", {1}, 0, 1)}, {"f", Entry("F32", {2}, 1, 9)}};
  std::string data = "\x07" + FloatBytes({1.25f, -2.5f});
  std::string header_text = header.dump();
  header_text.append(3, ' ');  // odd total, so data starts unaligned in the buffer too
  auto st = ParseBytes(SafetensorsBytes(header_text, data));
  ASSERT_TRUE(st.ok()) << st.status();
  const TensorView* f = (*st)->FindTensor("f");
  ASSERT_NE(f, nullptr);
  float v[2];
  std::memcpy(v, f->data, 8);
  EXPECT_EQ(v[0], 1.25f);
  EXPECT_EQ(v[1], -2.5f);
}

TEST(SafetensorsTest, UnsupportedDtypesAreRecordedButNotUsable) {
  for (const char* dtype : {"I64", "U64", "F64", "I32", "U32", "I16", "U16", "I8", "U8", "BOOL",
                            "F8_E4M3", "F8_E5M2"}) {
    SCOPED_TRACE(dtype);
    int size = std::string_view(dtype).find("64") != std::string_view::npos   ? 8
               : std::string_view(dtype).find("32") != std::string_view::npos ? 4
               : std::string_view(dtype).find("16") != std::string_view::npos ? 2
                                                                               : 1;
    std::string bytes = BuildSafetensors({{"position_ids", dtype, {1, 3}, std::string(3 * size, '\1')},
                                          {"w", "F32", {1}, FloatBytes({1})}});
    auto st = ParseBytes(bytes);
    ASSERT_TRUE(st.ok()) << st.status();
    const SafetensorsFile& f = **st;
    ASSERT_EQ(f.tensors().size(), 1u);
    EXPECT_EQ(f.tensors()[0].name, "w");
    EXPECT_EQ(f.FindTensor("position_ids"), nullptr);
    ASSERT_EQ(f.unsupported_tensors().size(), 1u);
    const UnsupportedTensor* u = f.FindUnsupported("position_ids");
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->dtype, dtype);
    EXPECT_EQ(u->shape, (std::vector<int64_t>{1, 3}));
    auto got = f.GetTensor("position_ids");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), kUnsupported);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr("test.safetensors"));
    EXPECT_THAT(std::string(got.status().message()), HasSubstr("position_ids"));
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(dtype));
  }
}

TEST(SafetensorsTest, UnsupportedDtypesAreStillValidated) {
  // An I64 tensor whose bytes do not match its shape is a broken file, not an unsupported one.
  ExpectHeaderError({{"ids", Entry("I64", {3}, 0, 16)}}, std::string(16, '\0'), kInvalidModel,
                    {"ids", "I64"});
  ExpectHeaderError({{"ids", Entry("I64", {2}, 0, 16)}, {"w", Entry("F32", {2}, 8, 16)}},
                    std::string(16, '\0'), kInvalidModel, {"overlap", "ids", "w"});
}

TEST(SafetensorsTest, MoreThanFourDimsIsUnsupported) {
  std::string bytes = BuildSafetensors({{"conv", "F32", {1, 1, 1, 1, 2}, FloatBytes({1, 2})},
                                        {"w4", "F32", {1, 2, 1, 1}, FloatBytes({1, 2})}});
  auto st = ParseBytes(bytes);
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_NE((*st)->FindTensor("w4"), nullptr);
  EXPECT_EQ((*st)->FindTensor("w4")->ne[2], 2);
  EXPECT_EQ((*st)->FindTensor("conv"), nullptr);
  auto got = (*st)->GetTensor("conv");
  EXPECT_EQ(got.status().code(), kUnsupported);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("conv"));
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("5 dimensions"));
}

TEST(SafetensorsTest, GetTensorOfAbsentNameIsInvalidModel) {
  auto st = ParseBytes(BuildSafetensors({{"w", "F32", {1}, FloatBytes({1})}}));
  ASSERT_TRUE(st.ok());
  auto got = (*st)->GetTensor("model.norm.weight");
  EXPECT_EQ(got.status().code(), kInvalidModel);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("test.safetensors"));
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("model.norm.weight"));
}

TEST(SafetensorsTest, OpenReportsIoErrorForMissingFile) {
  auto st = SafetensorsFile::Open("/nonexistent/dir/model.safetensors");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), kIo);
  EXPECT_THAT(std::string(st.status().message()), HasSubstr("/nonexistent/dir/model.safetensors"));
}

TEST(SafetensorsTest, OpensTheFixtureFiles) {
  struct Case {
    const char* dir;
    size_t n_tensors;
    int64_t vocab;
  };
  for (const Case& c : {Case{"tiny-phi2", 33, 51200}, Case{"tiny-llama2", 21, 32000},
                        Case{"tiny-mistral", 21, 32000}}) {
    SCOPED_TRACE(c.dir);
    std::string path = TestDataPath(std::string("models/") + c.dir + "/model.safetensors");
    auto st = SafetensorsFile::Open(path);
    ASSERT_TRUE(st.ok()) << st.status();
    const SafetensorsFile& f = **st;
    EXPECT_EQ(f.path(), path);
    EXPECT_EQ(f.tensors().size(), c.n_tensors);
    EXPECT_TRUE(f.unsupported_tensors().empty());
    EXPECT_EQ(f.metadata().at("format"), "pt");
    const TensorView* emb = f.FindTensor("model.embed_tokens.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->type, DType::kF32);
    EXPECT_EQ(emb->n_dims, 2);
    EXPECT_EQ(emb->ne[0], 32);
    EXPECT_EQ(emb->ne[1], c.vocab);
    // The views tile the data section exactly: the fixtures have no gaps, and the data
    // section is what follows the 8-byte length and the header.
    uint64_t total = 0;
    const uint8_t* lowest = f.tensors().front().data;
    const uint8_t* highest = lowest;
    for (const TensorView& t : f.tensors()) {
      total += t.nbytes;
      EXPECT_EQ(t.nbytes, static_cast<uint64_t>(t.n_elements()) * 4) << t.name;
      lowest = std::min(lowest, t.data);
      highest = std::max(highest, t.data + t.nbytes);
    }
    EXPECT_EQ(static_cast<uint64_t>(highest - lowest), total);
    std::string head = ember::testing::ReadFileBytes(path).substr(0, 8);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(head[i]);
    EXPECT_EQ(8 + header_len + total, std::filesystem::file_size(path));
  }
}

// ---- hostile input ----

TEST(SafetensorsHostileTest, EveryPrefixOfAValidFileIsRejected) {
  std::string bytes = BuildSafetensors({{"a", "F32", {2, 2}, FloatBytes({1, 2, 3, 4})},
                                        {"b", "F16", {3}, std::string(6, '\x11')}},
                                       json{{"format", "pt"}});
  ASSERT_TRUE(ParseBytes(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto st = ParseBytes(bytes.substr(0, n));
    ASSERT_FALSE(st.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(st.status().code(), kInvalidModel) << n << ": " << st.status();
    EXPECT_THAT(std::string(st.status().message()), HasSubstr("test.safetensors"));
  }
}

TEST(SafetensorsHostileTest, LyingHeaderLength) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string data = FloatBytes({1});
  ASSERT_TRUE(ParseBytes(SafetensorsBytes(header, data)).ok());
  struct Case {
    uint64_t len;
    const char* expect;
  };
  const uint64_t file_rest = header.size() + data.size();
  for (const Case& c : {Case{0, "header length is 0"}, Case{file_rest + 1, "past the end"},
                        Case{~uint64_t{0}, "past the end"}, Case{uint64_t{1} << 63, "past the end"},
                        Case{uint64_t{1} << 32, "past the end"},
                        // Shorter than the JSON: the parser sees a cut-off object.
                        Case{header.size() - 1, "JSON"},
                        // Longer: the data becomes part of the "JSON".
                        Case{file_rest, "JSON"}}) {
    SCOPED_TRACE(c.len);
    auto st = ParseBytes(SafetensorsBytes(c.len, header, data));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().code(), kInvalidModel) << st.status();
    EXPECT_THAT(std::string(st.status().message()), HasSubstr("test.safetensors"));
    EXPECT_THAT(std::string(st.status().message()), HasSubstr(c.expect));
  }
}

TEST(SafetensorsHostileTest, HeaderAboveTheSizeLimit) {
  // A sparse file: 101 MiB of zeros after a header length that claims all of it.
  uint64_t claimed = uint64_t{101} << 20;
  std::string path = ember::testing::WriteTempFile("big.safetensors", SafetensorsBytes(claimed, "", ""));
  std::filesystem::resize_file(path, 8 + claimed);
  auto st = SafetensorsFile::Open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), kInvalidModel);
  EXPECT_THAT(std::string(st.status().message()), HasSubstr("exceeds the limit"));
  EXPECT_THAT(std::string(st.status().message()), HasSubstr(path));
  std::filesystem::remove(path);
}

TEST(SafetensorsHostileTest, InvalidJson) {
  for (std::string text : {std::string("{"), std::string("not json"), std::string("{\"a\": }"),
                           std::string("{\"a\":\"\xff\xfe\"}"),  // invalid UTF-8
                           std::string("{\"a\":1}{"), std::string(1, '\0'),
                           std::string("{}\0garbage", 10),  // nlohmann would stop at the NUL
                           std::string(5000, '[') + std::string(5000, ']')}) {
    SCOPED_TRACE(text.substr(0, 20));
    auto st = ParseBytes(SafetensorsBytes(text, ""));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().code(), kInvalidModel) << st.status();
    EXPECT_THAT(std::string(st.status().message()), HasSubstr("test.safetensors"));
  }
}

TEST(SafetensorsHostileTest, HeaderThatIsNotAnObject) {
  for (std::string text : {"[]", "42", "\"x\"", "null", "true"}) {
    SCOPED_TRACE(text);
    auto st = ParseBytes(SafetensorsBytes(text, ""));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().code(), kInvalidModel);
    EXPECT_THAT(std::string(st.status().message()), HasSubstr("JSON object"));
  }
}

TEST(SafetensorsHostileTest, WrongFieldTypes) {
  const std::string d8(8, '\0');
  ExpectHeaderError({{"t", 5}}, d8, kInvalidModel, {"'t'", "expected an object"});
  ExpectHeaderError({{"t", {{"dtype", 1}, {"shape", {2}}, {"data_offsets", {0, 8}}}}}, d8, kInvalidModel,
                    {"'t'", "dtype"});
  ExpectHeaderError({{"t", {{"dtype", "F32"}, {"shape", "2"}, {"data_offsets", {0, 8}}}}}, d8,
                    kInvalidModel, {"'t'", "shape"});
  ExpectHeaderError({{"t", Entry("F32", {-2}, 0, 8)}}, d8, kInvalidModel, {"'t'", "shape[0]"});
  ExpectHeaderError({{"t", Entry("F32", {2.0}, 0, 8)}}, d8, kInvalidModel, {"'t'", "shape[0]"});
  ExpectHeaderError({{"t", Entry("F32", {1, "2"}, 0, 8)}}, d8, kInvalidModel, {"'t'", "shape[1]"});
  ExpectHeaderError({{"t", Entry("F32", {1, {2}}, 0, 8)}}, d8, kInvalidModel, {"'t'", "shape[1]"});
  ExpectHeaderError({{"t", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 4, 8}}}}}, d8,
                    kInvalidModel, {"'t'", "data_offsets"});
  ExpectHeaderError({{"t", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {-8, 0}}}}}, d8,
                    kInvalidModel, {"'t'", "data_offsets"});
  ExpectHeaderError({{"t", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {"0", "8"}}}}}, d8,
                    kInvalidModel, {"'t'", "data_offsets"});
  ExpectHeaderError({{"t", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", 8}}}}, d8, kInvalidModel,
                    {"'t'", "data_offsets"});
  ExpectHeaderError({{"__metadata__", "pt"}}, "", kInvalidModel, {"__metadata__"});
  ExpectHeaderError({{"__metadata__", {{"format", 1}}}}, "", kInvalidModel, {"__metadata__", "format"});
}

TEST(SafetensorsHostileTest, MissingFields) {
  const std::string d8(8, '\0');
  ExpectHeaderError({{"t", {{"shape", {2}}, {"data_offsets", {0, 8}}}}}, d8, kInvalidModel,
                    {"'t'", "missing \"dtype\""});
  ExpectHeaderError({{"t", {{"dtype", "F32"}, {"data_offsets", {0, 8}}}}}, d8, kInvalidModel,
                    {"'t'", "missing \"shape\""});
  ExpectHeaderError({{"t", {{"dtype", "F32"}, {"shape", {2}}}}}, d8, kInvalidModel,
                    {"'t'", "missing \"data_offsets\""});
}

TEST(SafetensorsHostileTest, OffsetsPastTheEnd) {
  ExpectHeaderError({{"t", Entry("F32", {2}, 0, 8)}}, std::string(7, '\0'), kInvalidModel,
                    {"'t'", "past the data section of 7 bytes"});
  ExpectHeaderError({{"t", Entry("F32", {1}, 4, 8)}}, std::string(4, '\0'), kInvalidModel,
                    {"'t'", "past the data section"});
  ExpectHeaderError({{"t", Entry("F32", {0}, 5, 5)}}, std::string(4, '\0'), kInvalidModel,
                    {"'t'", "past the data section"});
  ExpectHeaderError({{"t", Entry("F32", {2}, ~uint64_t{0} - 3, 4)}}, std::string(8, '\0'), kInvalidModel,
                    {"'t'", "end before they begin"});
  ExpectHeaderError({{"t", Entry("F32", {2}, 8, 0)}}, std::string(8, '\0'), kInvalidModel,
                    {"'t'", "end before they begin"});
}

TEST(SafetensorsHostileTest, OverlappingOffsets) {
  ExpectHeaderError({{"a", Entry("F32", {2}, 0, 8)}, {"b", Entry("F32", {2}, 4, 12)}}, std::string(12, '\0'),
                    kInvalidModel, {"overlap", "'a'", "'b'"});
  // Same range twice.
  ExpectHeaderError({{"a", Entry("F32", {2}, 0, 8)}, {"b", Entry("F32", {2}, 0, 8)}}, std::string(8, '\0'),
                    kInvalidModel, {"overlap"});
  // One inside another.
  ExpectHeaderError({{"a", Entry("F32", {4}, 0, 16)}, {"b", Entry("F32", {1}, 4, 8)}}, std::string(16, '\0'),
                    kInvalidModel, {"overlap"});
}

TEST(SafetensorsHostileTest, DtypeShapeMismatch) {
  ExpectHeaderError({{"t", Entry("F32", {2, 2}, 0, 12)}}, std::string(12, '\0'), kInvalidModel,
                    {"'t'", "span 12"});
  ExpectHeaderError({{"t", Entry("F16", {4}, 0, 16)}}, std::string(16, '\0'), kInvalidModel,
                    {"'t'", "F16"});
  ExpectHeaderError({{"t", Entry("BF16", {3}, 0, 4)}}, std::string(4, '\0'), kInvalidModel, {"'t'"});
}

TEST(SafetensorsHostileTest, ShapeProductOverflow) {
  const uint64_t big = uint64_t{1} << 32;
  // 2^32 * 2^32 wraps to 0 in 64 bits: must not pass as an empty tensor.
  ExpectHeaderError({{"t", Entry("F32", {big, big}, 0, 0)}}, "", kInvalidModel, {"'t'", "63 bits"});
  ExpectHeaderError({{"t", Entry("F32", {big, big, 0}, 0, 0)}}, "", kInvalidModel, {"'t'", "63 bits"});
  // Fits in 63 bits but times 4 bytes it wraps.
  ExpectHeaderError({{"t", Entry("F32", {uint64_t{1} << 62}, 0, 0)}}, "", kInvalidModel, {"'t'"});
  ExpectHeaderError({{"t", Entry("F32", {~uint64_t{0}}, 0, 4)}}, std::string(4, '\0'), kInvalidModel,
                    {"'t'"});
}

TEST(SafetensorsHostileTest, UnknownDtypeIsUnsupported) {
  for (const char* dtype : {"F17", "", "f32", "Q4_0"}) {
    SCOPED_TRACE(dtype);
    ExpectHeaderError({{"weird", Entry(dtype, {1}, 0, 4)}}, std::string(4, '\0'), kUnsupported,
                      {"'weird'", std::string("\"") + dtype + "\""});
  }
}

}  // namespace
}  // namespace ember
