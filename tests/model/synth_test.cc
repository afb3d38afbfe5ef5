// Synthetic benchmark models (lib/model/synth_*): exact shapes of the real architectures,
// the llama.cpp-style quantization mixes, and tiny files that load and run.
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/matmul.h"
#include "lib/format/gguf.h"
#include "lib/model/model.h"
#include "lib/model/synth_plan.h"
#include "lib/model/synth_writer.h"
#include "lib/runtime/session.h"
#include "lib/runtime/thread_pool.h"
#include "tests/support/test_support.h"

namespace ember {
namespace {

using ::ember::testing::ReadFileBytes;
using ::ember::testing::TestDataPath;
using ::ember::testing::WriteTempFile;

std::vector<SynthTensor> Plan(const std::string& shape, const std::string& type) {
  absl::StatusOr<SynthShape> s = SynthShapeByName(shape);
  EXPECT_TRUE(s.ok()) << s.status();
  absl::StatusOr<SynthFileType> t = SynthFileTypeByName(type);
  EXPECT_TRUE(t.ok()) << t.status();
  absl::StatusOr<std::vector<SynthTensor>> plan = PlanSynthTensors(s->config, *t);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *plan : std::vector<SynthTensor>{};
}

int64_t Elements(const SynthTensor& t) {
  int64_t n = 1;
  for (int64_t d : t.ne) n *= d;
  return n;
}

// Bytes of tensor data (without header or alignment padding).
double DataBytes(const std::vector<SynthTensor>& plan) {
  double bytes = 0;
  for (const SynthTensor& t : plan) bytes += static_cast<double>(RowBytes(t.type, t.ne[0])) * (Elements(t) / t.ne[0]);
  return bytes;
}

TEST(SynthPlanTest, ParameterCountsAreThoseOfTheRealModels) {
  // Published parameter counts of microsoft/phi-2, Llama-2-7b-hf and Mistral-7B-v0.1.
  const std::map<std::string, int64_t> expected = {
      {"phi2", 2779683840}, {"llama2-7b", 6738415616}, {"mistral-7b", 7241732096}};
  for (const auto& [shape, params] : expected) {
    SCOPED_TRACE(shape);
    int64_t total = 0;
    for (const SynthTensor& t : Plan(shape, "F16")) total += Elements(t);
    EXPECT_EQ(total, params);
  }
  EXPECT_EQ(Plan("phi2", "F16").size(), 1u + 32 * 14 + 4);
  EXPECT_EQ(Plan("llama2-7b", "F16").size(), 1u + 32 * 9 + 2);
}

TEST(SynthPlanTest, Q4KMMixFollowsTheUseMoreBitsPattern) {
  const std::vector<SynthTensor> plan = Plan("mistral-7b", "Q4_K_M");
  // Layers 0-3, 28-31 and 6, 9, ..., 27 get Q6_K attn_v and ffn_down.
  const std::vector<int> more_bits = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  std::map<std::string, DType> types;
  for (const SynthTensor& t : plan) types[t.name] = t.type;
  for (int i = 0; i < 32; ++i) {
    const bool more = std::find(more_bits.begin(), more_bits.end(), i) != more_bits.end();
    const std::string p = "blk." + std::to_string(i) + ".";
    EXPECT_EQ(types[p + "attn_v.weight"], more ? DType::kQ6_K : DType::kQ4_K) << i;
    EXPECT_EQ(types[p + "ffn_down.weight"], more ? DType::kQ6_K : DType::kQ4_K) << i;
    for (const char* name : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) {
      EXPECT_EQ(types[p + name + ".weight"], DType::kQ4_K) << p << name;
    }
    EXPECT_EQ(types[p + "attn_norm.weight"], DType::kF32);
  }
  EXPECT_EQ(types["output.weight"], DType::kQ6_K);
  EXPECT_EQ(types["token_embd.weight"], DType::kQ4_K);
  EXPECT_EQ(types["output_norm.weight"], DType::kF32);
}

TEST(SynthPlanTest, FileSizesMatchLlamaCppFiles) {
  // llama.cpp's files of the same shapes (perf baseline): Phi-2 Q4_0 1.60 GB, Q8_0 2.96 GB,
  // Q4_K_M 1.74 GB; Mistral-7B Q4_0 4.11 GB, Q4_K_M 4.37 GB (the header adds < 3 MB).
  EXPECT_NEAR(DataBytes(Plan("phi2", "Q4_0")) / 1e9, 1.60, 0.006);
  EXPECT_NEAR(DataBytes(Plan("phi2", "Q8_0")) / 1e9, 2.96, 0.006);
  EXPECT_NEAR(DataBytes(Plan("phi2", "Q4_K_M")) / 1e9, 1.74, 0.006);
  EXPECT_NEAR(DataBytes(Plan("mistral-7b", "Q4_0")) / 1e9, 4.11, 0.006);
  EXPECT_NEAR(DataBytes(Plan("mistral-7b", "Q4_K_M")) / 1e9, 4.37, 0.006);
  EXPECT_NEAR(DataBytes(Plan("llama2-7b", "Q8_0")) / 1e9, 7.16, 0.006);
}

TEST(SynthPlanTest, RejectsUnknownNamesAndRowsThatDoNotFitTheBlocks) {
  EXPECT_FALSE(SynthShapeByName("gpt-5").ok());
  EXPECT_FALSE(SynthFileTypeByName("Q3_K_XL").ok());
  absl::StatusOr<SynthShape> s = SynthShapeByName("tiny-llama");
  ASSERT_TRUE(s.ok());
  s->config.n_vocab = 100;
  s->config.n_embd = 96;  // not a multiple of 256: no K-quant fits
  s->config.head_dim = 24;
  absl::StatusOr<std::vector<SynthTensor>> plan = PlanSynthTensors(s->config, *SynthFileTypeByName("Q4_K_M"));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("Q4_K"), std::string::npos) << plan.status();
}

TEST(SynthRandomTest, RowsAreDeterministicRoughlyNormalAndIndependent) {
  const int n = 1 << 16;
  std::vector<float> a(n), b(n), c(n);
  SynthRandomRow(7, 3, 11, {0.0f, 2.0f}, a.data(), n);
  SynthRandomRow(7, 3, 11, {0.0f, 2.0f}, b.data(), n);
  SynthRandomRow(7, 3, 12, {0.0f, 2.0f}, c.data(), n);
  EXPECT_EQ(a, b);
  double sum = 0, sq = 0, cross = 0;
  for (int i = 0; i < n; ++i) {
    sum += a[i];
    sq += a[i] * a[i];
    cross += a[i] * c[i];
  }
  const double mean = sum / n, stddev = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(stddev, 2.0, 0.05);
  EXPECT_NEAR(cross / n / 4.0, 0.0, 0.02);  // correlation of neighbouring rows
}

struct Written {
  std::string path;
  SynthResult result;
};

Written Synthesize(const std::string& shape, const std::string& type, const std::string& vocab, uint64_t seed,
                   int threads, const std::string& file_name) {
  SynthOptions o;
  o.config = SynthShapeByName(shape)->config;
  o.file_type = *SynthFileTypeByName(type);
  o.vocab_path = vocab;
  o.name = "test " + shape;
  o.seed = seed;
  ThreadPool pool(threads);
  Written w{WriteTempFile(file_name, ""), {}};
  absl::StatusOr<SynthResult> r = WriteSynthModel(o, w.path, pool);
  EXPECT_TRUE(r.ok()) << r.status();
  if (r.ok()) w.result = *r;
  return w;
}

// Loads the file, runs a short prompt and a decode step, and checks the logits are usable.
void ExpectRuns(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(path, {});
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions so;
  so.n_ctx = 64;
  so.n_threads = 2;
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Create(**model, so);
  ASSERT_TRUE(s.ok()) << s.status();
  const std::vector<int32_t> prompt = {1, 5, 9, 200, 7};
  ASSERT_TRUE((*s)->Eval(prompt, nullptr, nullptr).ok());
  const int32_t next = 3;
  ASSERT_TRUE((*s)->Eval(absl::MakeConstSpan(&next, 1), nullptr, nullptr).ok());
  absl::Span<const float> logits = (*s)->last_logits();
  ASSERT_EQ(static_cast<int32_t>(logits.size()), (*model)->config().n_vocab);
  double sq = 0;
  for (float v : logits) {
    ASSERT_TRUE(std::isfinite(v));
    sq += v * v;
  }
  const double rms = std::sqrt(sq / logits.size());
  EXPECT_GT(rms, 0.1);  // random weights give spread-out logits, not a flat line
  EXPECT_LT(rms, 100.0);
}

TEST(SynthWriterTest, TinyLlamaQ8_0HasTheConverterMetadataAndTheVocabulary) {
  const std::string vocab = TestDataPath("models/stories260K.gguf");
  Written w = Synthesize("tiny-llama", "Q8_0", vocab, 1, 2, "tiny-llama.q8_0.gguf");
  absl::StatusOr<std::unique_ptr<GgufFile>> f = GgufFile::Open(w.path);
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<std::unique_ptr<GgufFile>> v = GgufFile::Open(vocab);
  ASSERT_TRUE(v.ok());
  const GgufFile& g = **f;
  EXPECT_EQ(*g.GetString("general.architecture").value(), "llama");
  EXPECT_EQ(*g.GetUint("general.file_type").value(), 7u);
  EXPECT_EQ(*g.GetUint("general.quantization_version").value(), 2u);
  EXPECT_EQ(*g.GetUint("llama.block_count").value(), 2u);
  EXPECT_EQ(*g.GetUint("llama.embedding_length").value(), 256u);
  EXPECT_EQ(*g.GetUint("llama.feed_forward_length").value(), 512u);
  EXPECT_EQ(*g.GetUint("llama.attention.head_count").value(), 4u);
  EXPECT_EQ(*g.GetUint("llama.attention.head_count_kv").value(), 4u);
  EXPECT_EQ(*g.GetUint("llama.rope.dimension_count").value(), 64u);
  EXPECT_EQ(*g.GetUint("llama.vocab_size").value(), 512u);
  EXPECT_FLOAT_EQ(static_cast<float>(*g.GetFloat("llama.attention.layer_norm_rms_epsilon").value()), 1e-5f);
  EXPECT_EQ(g.Find("llama.attention.sliding_window"), nullptr);
  // Every tokenizer key is copied unchanged.
  int copied = 0;
  for (const std::string& key : (*v)->metadata_keys()) {
    if (key.rfind("tokenizer.ggml.", 0) != 0) continue;
    ++copied;
    ASSERT_NE(g.Find(key), nullptr) << key;
    EXPECT_EQ(g.Find(key)->type, (*v)->Find(key)->type) << key;
  }
  EXPECT_GE(copied, 5);
  EXPECT_EQ(g.GetStringArray("tokenizer.ggml.tokens").value(), (*v)->GetStringArray("tokenizer.ggml.tokens").value());
  EXPECT_EQ(g.GetFloatArray("tokenizer.ggml.scores").value(), (*v)->GetFloatArray("tokenizer.ggml.scores").value());

  ASSERT_EQ(g.tensors().size(), 1u + 2 * 9 + 2);
  for (const TensorView& t : g.tensors()) {
    EXPECT_EQ(t.type, t.n_dims == 1 ? DType::kF32 : DType::kQ8_0) << t.name;
  }
  const TensorView* embd = g.FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->ne[0], 256);
  EXPECT_EQ(embd->ne[1], 512);
  EXPECT_EQ(w.result.file_bytes, ReadFileBytes(w.path).size());

  // The stored rows are the generator's rows, quantized: tensor 0 is token_embd, N(0, 1).
  WeightMatrix m{embd->type, embd->ne[1], embd->ne[0], embd->data, RowBytes(embd->type, embd->ne[0])};
  std::vector<float> want(256), got(256);
  for (int64_t row : {0, 1, 300, 511}) {
    SynthRandomRow(1, 0, static_cast<uint64_t>(row), {0.0f, 1.0f}, want.data(), 256);
    DequantizeRow(m, row, got.data());
    for (int i = 0; i < 256; ++i) ASSERT_NEAR(got[i], want[i], 0.02) << "row " << row << " col " << i;
  }
  ExpectRuns(w.path);
}

TEST(SynthWriterTest, OutputDoesNotDependOnThreadsButOnTheSeed) {
  const std::string vocab = TestDataPath("models/stories260K.gguf");
  Written one = Synthesize("tiny-mistral", "Q4_0", vocab, 5, 1, "a.gguf");
  Written two = Synthesize("tiny-mistral", "Q4_0", vocab, 5, 2, "b.gguf");
  Written other = Synthesize("tiny-mistral", "Q4_0", vocab, 6, 2, "c.gguf");
  const std::string a = ReadFileBytes(one.path);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == ReadFileBytes(two.path));
  EXPECT_FALSE(a == ReadFileBytes(other.path));
}

TEST(SynthWriterTest, TinyMistralQ4KMHasTheMixAndTheWindow) {
  Written w = Synthesize("tiny-mistral", "Q4_K_M", TestDataPath("models/stories260K.gguf"), 2, 2, "m.gguf");
  absl::StatusOr<std::unique_ptr<GgufFile>> f = GgufFile::Open(w.path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*(*f)->GetUint("llama.attention.sliding_window").value(), 32u);
  EXPECT_EQ(*(*f)->GetUint("llama.attention.head_count_kv").value(), 2u);
  EXPECT_EQ(*(*f)->GetUint("general.file_type").value(), 15u);
  // Two layers: n/8 = 0 and 7n/8 = 1, so layer 1 uses more bits and layer 0 does not.
  EXPECT_EQ((*f)->FindTensor("blk.0.attn_v.weight")->type, DType::kQ4_K);
  EXPECT_EQ((*f)->FindTensor("blk.1.attn_v.weight")->type, DType::kQ6_K);
  EXPECT_EQ((*f)->FindTensor("blk.0.ffn_down.weight")->type, DType::kQ4_K);
  EXPECT_EQ((*f)->FindTensor("blk.1.ffn_down.weight")->type, DType::kQ6_K);
  EXPECT_EQ((*f)->FindTensor("blk.0.attn_k.weight")->ne[1], 128);  // 2 kv heads of 64
  EXPECT_EQ((*f)->FindTensor("output.weight")->type, DType::kQ6_K);
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(w.path, {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->config().arch, Architecture::kMistral);
  EXPECT_EQ((*model)->config().sliding_window, 32);
  ExpectRuns(w.path);
}

TEST(SynthWriterTest, TinyPhi2GetsBiasesAndNoBos) {
  Written w = Synthesize("tiny-phi2", "Q8_0", TestDataPath("tokenizers/ggml-vocab-gpt-2.gguf"), 3, 2, "p.gguf");
  absl::StatusOr<std::unique_ptr<GgufFile>> f = GgufFile::Open(w.path);
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& g = **f;
  EXPECT_EQ(*g.GetString("general.architecture").value(), "phi2");
  EXPECT_EQ(*g.GetUint("phi2.rope.dimension_count").value(), 32u);
  EXPECT_EQ(*g.GetUint("phi2.feed_forward_length").value(), 1024u);
  EXPECT_EQ(g.GetBool("tokenizer.ggml.add_bos_token").value(), std::optional<bool>(false));
  EXPECT_EQ(*g.GetString("tokenizer.ggml.model").value(), "gpt2");
  EXPECT_EQ(g.GetStringArray("tokenizer.ggml.merges").value().size(), 50000u);
  EXPECT_EQ(g.tensors().size(), 1u + 2 * 14 + 4);
  ASSERT_NE(g.FindTensor("output.bias"), nullptr);
  EXPECT_EQ(g.FindTensor("output.bias")->ne[0], 50257);
  EXPECT_EQ(g.FindTensor("blk.1.ffn_up.bias")->type, DType::kF32);
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(w.path, {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->config().arch, Architecture::kPhi2);
  EXPECT_EQ((*model)->config().n_rot, 32);
  ExpectRuns(w.path);
}

TEST(SynthWriterTest, FullSizeShapeNeedsItsOwnVocabularySize) {
  SynthOptions o;
  o.config = SynthShapeByName("phi2")->config;
  o.file_type = *SynthFileTypeByName("Q4_0");
  o.vocab_path = TestDataPath("models/stories260K.gguf");  // 512 tokens, Phi-2 has 51200
  ThreadPool pool(1);
  absl::StatusOr<SynthResult> r = WriteSynthModel(o, WriteTempFile("never.gguf", ""), pool);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("512 tokens"), std::string::npos) << r.status();

  o.vocab_path = TestDataPath("models/no-such-file.gguf");
  r = WriteSynthModel(o, WriteTempFile("never2.gguf", ""), pool);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no-such-file.gguf"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace ember
