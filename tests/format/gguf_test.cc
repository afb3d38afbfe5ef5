// GgufFile on the real fixtures, and writer -> reader round trips.
#include "lib/format/gguf.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/fp16.h"
#include "lib/base/errors.h"
#include "lib/format/gguf_writer.h"
#include "tests/support/test_support.h"

namespace ember {
namespace {

using ::ember::testing::TestDataPath;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<GgufFile> OpenOrDie(const std::string& relative) {
  auto f = GgufFile::Open(TestDataPath(relative));
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? std::move(f).value() : nullptr;
}

uint64_t UintOrZero(const GgufFile& f, std::string_view key) {
  auto v = f.GetUint(key);
  EXPECT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v.ok() && v->has_value()) << "missing " << key;
  return v.ok() && v->has_value() ? **v : 0;
}

// Every fixture opens, and every tensor view lies inside the mapping, aligned.
TEST(GgufFixtures, AllFixturesOpen) {
  for (const char* name :
       {"models/stories260K.gguf", "models/llama-2-tiny-random.gguf", "models/tiny-llama2.f32.gguf",
        "models/tiny-llama2.q8_0.gguf", "models/tiny-mistral.q8_0.gguf", "models/tiny-phi2.f32.gguf",
        "models/tiny-phi2.q8_0.gguf", "tokenizers/ggml-vocab-gpt-2.gguf"}) {
    SCOPED_TRACE(name);
    auto f = OpenOrDie(name);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), 32u);
    const uint8_t* begin = f->file().data();
    const uint8_t* end = begin + f->file().size();
    for (const TensorView& t : f->tensors()) {
      EXPECT_GE(t.data, begin + f->data_offset()) << t.name;
      EXPECT_LE(t.data + t.nbytes, end) << t.name;
      EXPECT_EQ((t.data - begin - f->data_offset()) % 32, 0) << t.name;
      EXPECT_EQ(f->FindTensor(t.name), &t);
      EXPECT_EQ(static_cast<int64_t>(t.nbytes),
                RowBytes(t.type, t.ne[0]) * t.ne[1] * t.ne[2] * t.ne[3]);
    }
    EXPECT_EQ(f->metadata_keys().size(), f->metadata_keys().size());
    for (const std::string& key : f->metadata_keys()) EXPECT_NE(f->Find(key), nullptr) << key;
  }
}

TEST(GgufFixtures, Stories260K) {
  auto f = OpenOrDie("models/stories260K.gguf");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->metadata_keys().size(), 18u);
  EXPECT_EQ(f->metadata_keys()[0], "general.architecture");
  EXPECT_EQ(*f->GetString("general.architecture").value(), "llama");
  EXPECT_EQ(*f->GetString("general.name").value(), "tinyllamas-stories-260k");
  EXPECT_EQ(UintOrZero(*f, "llama.block_count"), 5u);
  EXPECT_EQ(UintOrZero(*f, "llama.context_length"), 512u);
  EXPECT_EQ(UintOrZero(*f, "llama.embedding_length"), 64u);
  EXPECT_EQ(UintOrZero(*f, "llama.feed_forward_length"), 172u);
  EXPECT_EQ(UintOrZero(*f, "llama.attention.head_count_kv"), 4u);
  EXPECT_NEAR(*f->GetFloat("llama.attention.layer_norm_rms_epsilon").value(), 1e-5, 1e-11);
  EXPECT_FALSE(f->GetFloat("llama.rope.freq_base").value().has_value());
  EXPECT_FALSE(f->GetUint("general.file_type").value().has_value());

  auto tokens = f->GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 512u);
  EXPECT_EQ((*tokens)[0], "<unk>");
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[2], "</s>");
  auto scores = f->GetFloatArray("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.ok()) << scores.status();
  EXPECT_EQ(scores->size(), 512u);
  auto types = f->GetInt32Array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok()) << types.status();
  ASSERT_EQ(types->size(), 512u);
  EXPECT_EQ((*types)[0], 2);  // UNKNOWN
  EXPECT_EQ((*types)[1], 3);  // CONTROL
  EXPECT_EQ(UintOrZero(*f, "tokenizer.ggml.bos_token_id"), 1u);

  ASSERT_EQ(f->tensors().size(), 48u);
  EXPECT_EQ(f->tensors()[0].name, "token_embd.weight");
  const TensorView* down = f->FindTensor("blk.4.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->type, DType::kF32);
  EXPECT_EQ(down->n_dims, 2);
  EXPECT_EQ(down->ne[0], 172);
  EXPECT_EQ(down->ne[1], 64);
  EXPECT_EQ(down->ne[2], 1);
  EXPECT_EQ(down->nbytes, 172u * 64 * 4);
  const TensorView* norm = f->FindTensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->n_dims, 1);
  EXPECT_EQ(norm->n_elements(), 64);
  // The last tensor sits 1040128 bytes into the data section, which starts after the
  // 14138-byte header rounded up to 32.
  const TensorView* out = f->FindTensor("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(f->data_offset(), 14144u);
  EXPECT_EQ(out->data - f->file().data(), 14144 + 1040128);
  EXPECT_EQ(out->data + out->nbytes, f->file().data() + f->file().size());
  // Norm weights of a trained model are finite and mostly near 1.
  float w0;
  std::memcpy(&w0, norm->data, 4);
  EXPECT_TRUE(std::isfinite(w0));
  EXPECT_EQ(f->FindTensor("no.such.tensor"), nullptr);
}

TEST(GgufFixtures, TinyPhi2Q8_0) {
  auto f = OpenOrDie("models/tiny-phi2.q8_0.gguf");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(*f->GetString("general.architecture").value(), "phi2");
  EXPECT_EQ(UintOrZero(*f, "phi2.rope.dimension_count"), 6u);
  EXPECT_EQ(UintOrZero(*f, "general.file_type"), 7u);
  auto add_bos = f->GetBool("tokenizer.ggml.add_bos_token");
  ASSERT_TRUE(add_bos.ok());
  EXPECT_EQ(*add_bos, std::optional<bool>(false));
  EXPECT_EQ(f->GetStringArray("tokenizer.ggml.tokens")->size(), 51200u);
  auto merges = f->GetStringArray("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.ok());
  ASSERT_EQ(merges->size(), 50000u);
  EXPECT_EQ((*merges)[0], "\xC4\xA0 t");  // "Ġ t"

  ASSERT_EQ(f->tensors().size(), 33u);
  int q8 = 0, f32 = 0;
  for (const TensorView& t : f->tensors()) {
    if (t.n_dims == 2) {
      EXPECT_EQ(t.type, DType::kQ8_0) << t.name;
      ++q8;
    } else {
      EXPECT_EQ(t.type, DType::kF32) << t.name;
      ++f32;
    }
  }
  EXPECT_EQ(q8, 14);
  EXPECT_EQ(f32, 19);
  const TensorView* out = f->FindTensor("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->ne[0], 32);
  EXPECT_EQ(out->ne[1], 51200);
  EXPECT_EQ(out->nbytes, 51200u * 34);
}

TEST(GgufFixtures, LlamaTinyRandomHasF16Matrices) {
  auto f = OpenOrDie("models/llama-2-tiny-random.gguf");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(UintOrZero(*f, "llama.embedding_length"), 8u);
  EXPECT_EQ(f->GetStringArray("tokenizer.ggml.tokens")->size(), 32000u);
  const TensorView* q = f->FindTensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, DType::kF16);
  EXPECT_EQ(q->nbytes, 8u * 8 * 2);
}

TEST(GgufFixtures, TinyMistralSlidingWindow) {
  auto f = OpenOrDie("models/tiny-mistral.q8_0.gguf");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(UintOrZero(*f, "llama.attention.sliding_window"), 16u);
  EXPECT_EQ(UintOrZero(*f, "llama.attention.head_count"), 4u);
  EXPECT_EQ(UintOrZero(*f, "llama.attention.head_count_kv"), 2u);
}

TEST(GgufFixtures, VocabOnlyFileHasNoTensors) {
  auto f = OpenOrDie("tokenizers/ggml-vocab-gpt-2.gguf");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->metadata_keys().size(), 16u);
  EXPECT_EQ(*f->GetString("tokenizer.ggml.pre").value(), "gpt-2");
  EXPECT_EQ(f->GetStringArray("tokenizer.ggml.tokens")->size(), 50257u);
  EXPECT_EQ(f->GetStringArray("tokenizer.ggml.merges")->size(), 50000u);
  EXPECT_EQ(f->GetStringArray("tokenizer.ggml.tokens")->back(), "<|endoftext|>");
}

TEST(GgufGetters, WrongTypesAreInvalidModel) {
  auto f = OpenOrDie("models/stories260K.gguf");
  ASSERT_NE(f, nullptr);
  auto s = f->GetUint("general.architecture");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("metadata 'general.architecture': expected an integer, found string"));
  EXPECT_THAT(std::string(f->GetStringArray("tokenizer.ggml.scores").status().message()),
              HasSubstr("found array of f32"));
  EXPECT_EQ(f->GetFloat("llama.block_count").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f->GetBool("llama.block_count").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f->GetString("llama.block_count").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f->GetStringArray("tokenizer.ggml.scores").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f->GetFloatArray("tokenizer.ggml.tokens").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f->GetInt32Array("tokenizer.ggml.scores").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(f->GetInt32Array("general.name").status().code(), absl::StatusCode::kDataLoss);
  // Absent arrays read as empty.
  auto absent = f->GetStringArray("tokenizer.ggml.merges");
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->empty());
}

TEST(GgufOpen, MissingFileIsIoError) {
  auto f = GgufFile::Open(TestDataPath("models/does-not-exist.gguf"));
  EXPECT_EQ(f.status().code(), absl::StatusCode::kUnavailable);
}

// ---- Writer -> reader round trips -----------------------------------------------------

std::unique_ptr<GgufFile> ParseBytes(const std::string& bytes) {
  auto f = GgufFile::Parse(MappedFile::FromBuffer(
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
      "roundtrip.gguf"));
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? std::move(f).value() : nullptr;
}

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

TEST(GgufRoundTrip, EveryValueType) {
  GgufWriter w;
  w.AddUint8("u8", 200);
  w.AddInt8("i8", -100);
  w.AddUint16("u16", 60000);
  w.AddInt16("i16", -30000);
  w.AddUint32("u32", 4000000000u);
  w.AddInt32("i32", -2000000000);
  w.AddUint64("u64", 18000000000000000000ull);
  w.AddInt64("i64", -9000000000000000000ll);
  w.AddFloat32("f32", 0.15625f);
  w.AddFloat64("f64", -1e300);
  w.AddBool("yes", true);
  w.AddBool("no", false);
  w.AddString("str", "h\xC3\xA9llo");
  w.AddString("empty", "");
  w.AddStringArray("strs", std::vector<std::string>{"a", "", "\xE2\x96\x81x", std::string("\0z", 2)});
  w.AddFloat32Array("f32s", std::vector<float>{1.5f, -2.0f});
  w.AddInt32Array("i32s", std::vector<int32_t>{-1, 7, 2147483647});
  std::vector<uint16_t> u16s = {1, 65535};
  w.AddArray("u16s", GgufType::kUint16, 2, Bytes(u16s.data(), 4));
  std::vector<double> f64s = {0.25, 1e-9};
  w.AddArray("f64s", GgufType::kFloat64, 2, Bytes(f64s.data(), 16));
  w.AddArray("bools", GgufType::kBool, 3, std::string("\1\0\1", 3));
  w.AddArray("empty_arr", GgufType::kUint32, 0, "");
  w.AddStringArray("empty_strs", std::vector<std::string>{});
  auto bytes = w.ToBytes();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->size(), w.FileSize());
  auto f = ParseBytes(*bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_TRUE(f->tensors().empty());
  ASSERT_EQ(f->metadata_keys().size(), 22u);
  EXPECT_EQ(f->metadata_keys()[0], "u8");
  EXPECT_EQ(f->metadata_keys()[21], "empty_strs");

  EXPECT_EQ(f->Find("u8")->type, GgufType::kUint8);
  EXPECT_EQ(**f->GetUint("u8"), 200u);
  EXPECT_EQ(f->Find("i8")->i, -100);
  EXPECT_EQ(f->Find("i8")->type, GgufType::kInt8);
  EXPECT_EQ(**f->GetUint("u16"), 60000u);
  EXPECT_EQ(f->Find("i16")->i, -30000);
  EXPECT_EQ(**f->GetUint("u32"), 4000000000u);
  EXPECT_EQ(f->Find("i32")->i, -2000000000);
  EXPECT_EQ(**f->GetUint("u64"), 18000000000000000000ull);
  EXPECT_EQ(f->Find("i64")->i, -9000000000000000000ll);
  EXPECT_EQ(f->GetUint("i64").status().code(), absl::StatusCode::kDataLoss);  // negative
  EXPECT_EQ(**f->GetFloat("f32"), 0.15625);
  EXPECT_EQ(**f->GetFloat("f64"), -1e300);
  EXPECT_EQ(**f->GetBool("yes"), true);
  EXPECT_EQ(**f->GetBool("no"), false);
  EXPECT_EQ(**f->GetString("str"), "h\xC3\xA9llo");
  EXPECT_EQ(**f->GetString("empty"), "");
  EXPECT_THAT(*f->GetStringArray("strs"),
              ElementsAre("a", "", "\xE2\x96\x81x", std::string_view("\0z", 2)));
  EXPECT_THAT(*f->GetFloatArray("f32s"), ElementsAre(1.5f, -2.0f));
  EXPECT_THAT(*f->GetFloatArray("f64s"), ElementsAre(0.25f, 1e-9f));
  EXPECT_THAT(*f->GetInt32Array("i32s"), ElementsAre(-1, 7, 2147483647));
  EXPECT_THAT(*f->GetInt32Array("u16s"), ElementsAre(1, 65535));
  const GgufValue* bools = f->Find("bools");
  ASSERT_NE(bools, nullptr);
  EXPECT_EQ(bools->type, GgufType::kArray);
  EXPECT_EQ(bools->elem_type, GgufType::kBool);
  EXPECT_EQ(bools->count, 3u);
  EXPECT_EQ(Bytes(bools->array_data, 3), std::string("\1\0\1", 3));
  EXPECT_EQ(f->Find("empty_arr")->count, 0u);
  EXPECT_TRUE(f->GetInt32Array("empty_arr")->empty());
  EXPECT_TRUE(f->GetStringArray("empty_strs")->empty());
  EXPECT_EQ(f->Find("empty_strs")->elem_type, GgufType::kString);
}

// Tensors of several types and ranks, default and custom alignment, written to a file.
TEST(GgufRoundTrip, TensorsAndAlignment) {
  for (uint32_t alignment : {32u, 1u, 64u, 4096u}) {
    SCOPED_TRACE(alignment);
    GgufWriter w(alignment);
    w.AddString("general.architecture", "test");
    std::vector<float> f32 = {1, 2, 3};
    std::vector<uint16_t> f16(64 * 2 * 3, 0x3C00);  // 1.0
    std::string q8(34 * 2, '\x11');
    std::string q4k(144 * 1 * 1 * 1 * 2, '\x22');
    ASSERT_TRUE(w.AddTensor("a.f32", DType::kF32, {3}, Bytes(f32.data(), 12)).ok());
    ASSERT_TRUE(w.AddTensor("b.f16", DType::kF16, {64, 2, 3}, Bytes(f16.data(), f16.size() * 2)).ok());
    ASSERT_TRUE(w.AddTensor("c.q8", DType::kQ8_0, {32, 2}, q8).ok());
    ASSERT_TRUE(w.AddTensor("d.q4k", DType::kQ4_K, {256, 1, 1, 2}, q4k).ok());
    std::string path = ::ember::testing::WriteTempFile("unused", "");
    path += ".gguf";
    ASSERT_TRUE(w.WriteFile(path).ok());
    auto opened = GgufFile::Open(path);
    ASSERT_TRUE(opened.ok()) << opened.status();
    const GgufFile& f = **opened;
    EXPECT_EQ(f.alignment(), alignment);
    EXPECT_EQ(f.file().size(), w.FileSize());
    EXPECT_EQ(f.Find("general.alignment") != nullptr, alignment != 32);
    ASSERT_EQ(f.tensors().size(), 4u);
    for (const TensorView& t : f.tensors()) {
      EXPECT_EQ((t.data - f.file().data()) % alignment, 0u) << t.name;
      EXPECT_EQ(static_cast<uint64_t>(t.data - f.file().data() - f.data_offset()) % alignment, 0u);
    }
    const TensorView& a = f.tensors()[0];
    EXPECT_EQ(a.name, "a.f32");
    EXPECT_EQ(a.n_dims, 1);
    EXPECT_EQ(Bytes(a.data, a.nbytes), Bytes(f32.data(), 12));
    const TensorView* b = f.FindTensor("b.f16");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->type, DType::kF16);
    EXPECT_EQ(b->n_dims, 3);
    EXPECT_EQ(b->ne[0], 64);
    EXPECT_EQ(b->ne[1], 2);
    EXPECT_EQ(b->ne[2], 3);
    EXPECT_EQ(b->ne[3], 1);
    EXPECT_EQ(Fp16ToFloat(reinterpret_cast<const uint16_t*>(b->data)[5]), 1.0f);
    const TensorView* c = f.FindTensor("c.q8");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->type, DType::kQ8_0);
    EXPECT_EQ(Bytes(c->data, c->nbytes), q8);
    const TensorView* d = f.FindTensor("d.q4k");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->n_dims, 4);
    EXPECT_EQ(d->ne[3], 2);
    EXPECT_EQ(d->n_elements(), 512);
    EXPECT_EQ(Bytes(d->data, d->nbytes), q4k);
  }
}

// Tensor data can come from a callback in pieces; byte counts are enforced.
TEST(GgufRoundTrip, StreamedTensorData) {
  GgufWriter w;
  const int64_t rows = 1000;
  ASSERT_TRUE(w.AddTensor("big", DType::kF32, {64, rows}, [&](GgufSink& sink) -> absl::Status {
                 for (int64_t r = 0; r < rows; ++r) {
                   std::vector<float> row(64, static_cast<float>(r));
                   EMBER_RETURN_IF_ERROR(sink.Write(row.data(), row.size() * 4));
                 }
                 return absl::OkStatus();
               }).ok());
  auto bytes = w.ToBytes();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto f = ParseBytes(*bytes);
  ASSERT_NE(f, nullptr);
  const float* data = reinterpret_cast<const float*>(f->tensors()[0].data);
  EXPECT_EQ(data[0], 0.0f);
  EXPECT_EQ(data[64 * 999 + 63], 999.0f);

  GgufWriter short_fill;
  ASSERT_TRUE(short_fill.AddTensor("t", DType::kF32, {4}, [](GgufSink& sink) {
                float x = 1;
                return sink.Write(&x, 4);
              }).ok());
  auto s = short_fill.ToBytes();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("'t'"));

  GgufWriter long_fill;
  ASSERT_TRUE(long_fill.AddTensor("t", DType::kF32, {1}, [](GgufSink& sink) {
                double x = 1;
                return sink.Write(&x, 8);
              }).ok());
  EXPECT_EQ(long_fill.ToBytes().status().code(), absl::StatusCode::kInvalidArgument);

  GgufWriter failing;
  ASSERT_TRUE(failing.AddTensor("t", DType::kF32, {1}, [](GgufSink&) {
                return IoError("source gone");
              }).ok());
  EXPECT_EQ(failing.ToBytes().status().code(), absl::StatusCode::kUnavailable);
  // A failed WriteFile leaves nothing behind.
  std::string path = ::ember::testing::WriteTempFile("x", "") + ".gguf";
  EXPECT_FALSE(failing.WriteFile(path).ok());
  EXPECT_FALSE(GgufFile::Open(path).ok());
  EXPECT_FALSE(GgufFile::Open(path + ".tmp").ok());
}

TEST(GgufWriter, RejectsInconsistentTensors) {
  GgufWriter w;
  EXPECT_FALSE(w.AddTensor("wrong_size", DType::kF32, {4}, std::string(15, '\0')).ok());
  EXPECT_FALSE(w.AddTensor("partial_block", DType::kQ8_0, {16}, std::string(17, '\0')).ok());
  EXPECT_FALSE(w.AddTensor("no_dims", DType::kF32, {}, std::string()).ok());
  EXPECT_FALSE(w.AddTensor("five_dims", DType::kF32, {1, 1, 1, 1, 1}, std::string(4, '\0')).ok());
  EXPECT_FALSE(w.AddTensor("zero_dim", DType::kF32, {4, 0}, std::string()).ok());
  EXPECT_EQ(w.tensor_count(), 0u);
  ASSERT_TRUE(w.AddTensor("ok", DType::kF32, {1}, std::string(4, '\0')).ok());
  EXPECT_EQ(w.FileSize(), w.ToBytes()->size());
  GgufWriter bad_alignment(3);
  EXPECT_FALSE(bad_alignment.AddTensor("t", DType::kF32, {1}, std::string(4, '\0')).ok());
  EXPECT_FALSE(bad_alignment.ToBytes().ok());
}

// The fuzz seeds (made with GgufWriter) stay valid files.
TEST(GgufRoundTrip, FuzzSeedsParse) {
  for (const char* name : {"all_types.gguf", "vocab_only.gguf", "align64.gguf"}) {
    SCOPED_TRACE(name);
    auto f = GgufFile::Open(TestDataPath(std::string("../../fuzz/seeds/gguf_fuzz/") + name));
    EXPECT_TRUE(f.ok()) << f.status();
  }
}

// Copies every key and tensor of `f` into a writer, preserving order and types.
void CopyInto(const GgufFile& f, GgufWriter* w) {
  for (const std::string& key : f.metadata_keys()) {
    const GgufValue& v = *f.Find(key);
    switch (v.type) {
      case GgufType::kUint8: w->AddUint8(key, v.u); break;
      case GgufType::kInt8: w->AddInt8(key, v.i); break;
      case GgufType::kUint16: w->AddUint16(key, v.u); break;
      case GgufType::kInt16: w->AddInt16(key, v.i); break;
      case GgufType::kUint32: w->AddUint32(key, v.u); break;
      case GgufType::kInt32: w->AddInt32(key, v.i); break;
      case GgufType::kUint64: w->AddUint64(key, v.u); break;
      case GgufType::kInt64: w->AddInt64(key, v.i); break;
      case GgufType::kFloat32: w->AddFloat32(key, static_cast<float>(v.f)); break;
      case GgufType::kFloat64: w->AddFloat64(key, v.f); break;
      case GgufType::kBool: w->AddBool(key, v.u != 0); break;
      case GgufType::kString: w->AddString(key, v.str); break;
      case GgufType::kArray:
        if (v.elem_type == GgufType::kString) {
          w->AddStringArray(key, std::vector<std::string>(v.strings.begin(), v.strings.end()));
        } else {
          static const size_t kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
          size_t n = kSize[static_cast<uint32_t>(v.elem_type)] * v.count;
          w->AddArray(key, v.elem_type, v.count, Bytes(v.array_data, n));
        }
        break;
    }
  }
  for (const TensorView& t : f.tensors()) {
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    ASSERT_TRUE(w->AddTensor(t.name, t.type, ne, Bytes(t.data, t.nbytes)).ok()) << t.name;
  }
}

// The writer lays files out exactly as llama.cpp's gguf-py did for these fixtures, so a
// copy is byte-identical (up to gguf-py's trailing padding after the last tensor).
TEST(GgufRoundTrip, FixtureCopiesAreByteIdentical) {
  for (const char* name : {"models/stories260K.gguf", "models/tiny-phi2.q8_0.gguf",
                           "tokenizers/ggml-vocab-gpt-2.gguf"}) {
    SCOPED_TRACE(name);
    auto f = OpenOrDie(name);
    ASSERT_NE(f, nullptr);
    GgufWriter w;
    CopyInto(*f, &w);
    auto bytes = w.ToBytes();
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    std::string original = Bytes(f->file().data(), f->file().size());
    ASSERT_LE(bytes->size(), original.size());
    EXPECT_LT(original.size() - bytes->size(), 32u);
    EXPECT_TRUE(*bytes == original.substr(0, bytes->size()));
    auto copy = ParseBytes(*bytes);
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(copy->metadata_keys(), f->metadata_keys());
    EXPECT_EQ(copy->tensors().size(), f->tensors().size());
  }
}

}  // namespace
}  // namespace ember
