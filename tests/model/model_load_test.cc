// Model::Load: configs from GGUF metadata and HF config.json, tensor validation, the HF ->
// GGUF Q/K layout, fused Phi-2 QKV, tied output, load-time quantization.
#include "lib/model/model.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "lib/base/errors.h"
#include "lib/model/hf_names.h"
#include "lib/model/qk_permute.h"
#include "lib/model/weights.h"
#include "tests/model/gguf_copy.h"
#include "tests/model/reference_check.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::unique_ptr<Model> MustLoad(const std::string& path, ModelLoadOptions options = {}) {
  auto model = Model::Load(path, options);
  EXPECT_TRUE(model.ok()) << path << ": " << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

std::string Models(const std::string& name) { return TestDataPath("models/" + name); }

TEST(ModelConfigTest, Stories260KFromGguf) {
  auto model = MustLoad(Models("stories260K.gguf"));
  ASSERT_NE(model, nullptr);
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.arch, Architecture::kLlama);
  EXPECT_EQ(c.arch_name, "llama");
  EXPECT_EQ(c.n_vocab, 512);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.n_layer, 5);
  EXPECT_EQ(c.n_head, 8);
  EXPECT_EQ(c.n_head_kv, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.n_ff, 172);
  EXPECT_EQ(c.n_rot, 8);
  EXPECT_EQ(c.n_ctx_train, 512);
  EXPECT_FLOAT_EQ(c.rope_theta, 10000.0f);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.sliding_window, 0);
}

TEST(ModelConfigTest, MistralWindowFromGgufKeyAndHfConfig) {
  for (const std::string& path : {Models("tiny-mistral.q8_0.gguf"), Models("tiny-mistral")}) {
    auto model = MustLoad(path);
    ASSERT_NE(model, nullptr);
    const ModelConfig& c = model->config();
    EXPECT_EQ(c.arch, Architecture::kMistral) << path;
    EXPECT_EQ(c.arch_name, "mistral") << path;
    EXPECT_EQ(c.sliding_window, 16) << path;
    EXPECT_EQ(c.n_head, 4) << path;
    EXPECT_EQ(c.n_head_kv, 2) << path;
    EXPECT_EQ(c.head_dim, 8) << path;
    EXPECT_EQ(c.n_ff, 128) << path;
    EXPECT_EQ(c.n_vocab, 32000) << path;
  }
}

TEST(ModelConfigTest, Phi2PartialRotaryFromGgufAndHf) {
  for (const std::string& path : {Models("tiny-phi2.f32.gguf"), Models("tiny-phi2")}) {
    auto model = MustLoad(path);
    ASSERT_NE(model, nullptr);
    const ModelConfig& c = model->config();
    EXPECT_EQ(c.arch, Architecture::kPhi2) << path;
    EXPECT_EQ(c.arch_name, "phi2") << path;
    EXPECT_EQ(c.n_rot, 6) << path;
    EXPECT_EQ(c.head_dim, 16) << path;
    EXPECT_EQ(c.n_ff, 128) << path;
    EXPECT_EQ(c.n_vocab, 51200) << path;
    EXPECT_EQ(c.n_ctx_train, 2048) << path;
    EXPECT_FALSE(model->weights().output_bias.empty()) << path;
    EXPECT_EQ(model->weights().layers[1].bq.size(), 32u) << path;
  }
}

TEST(HfNamesTest, TranslatesGgufNames) {
  EXPECT_EQ(HfTensorName(Architecture::kLlama, "blk.3.attn_q.weight"),
            "model.layers.3.self_attn.q_proj.weight");
  EXPECT_EQ(HfTensorName(Architecture::kMistral, "blk.12.ffn_norm.weight"),
            "model.layers.12.post_attention_layernorm.weight");
  EXPECT_EQ(HfTensorName(Architecture::kLlama, "output_norm.weight"), "model.norm.weight");
  EXPECT_EQ(HfTensorName(Architecture::kLlama, "token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(HfTensorName(Architecture::kPhi2, "blk.0.attn_output.bias"),
            "model.layers.0.self_attn.dense.bias");
  EXPECT_EQ(HfTensorName(Architecture::kPhi2, "blk.1.ffn_up.weight"), "model.layers.1.mlp.fc1.weight");
  EXPECT_EQ(HfTensorName(Architecture::kPhi2, "output_norm.bias"), "model.final_layernorm.bias");
  EXPECT_EQ(HfTensorName(Architecture::kPhi2, "output.bias"), "lm_head.bias");
}

TEST(QkPermuteTest, InterleavesHalves) {
  // head_dim 4: GGUF rows (0,1,2,3) of a head come from HF rows (0,2,1,3).
  const int64_t want[] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(HfRowForGgufRow(r, 4), want[r]) << r;
  const float hf[4][2] = {{0, 0.5f}, {1, 1.5f}, {2, 2.5f}, {3, 3.5f}};
  float gguf[4][2];
  const WeightMatrix m{DType::kF32, 4, 2, hf, 8};
  PermuteHfRowsToGguf(m, 4, reinterpret_cast<uint8_t*>(gguf));
  EXPECT_EQ(gguf[1][0], 2.0f);
  EXPECT_EQ(gguf[2][1], 1.5f);
}

// The HF directory and the F32 GGUF hold the same numbers (Q/K permuted in the GGUF), so
// after the load-time permutation both must give the same logits.
TEST(HfVsGgufTest, SameLogits) {
  const struct {
    const char* gguf;
    const char* dir;
    const char* case_file;
  } pairs[] = {{"tiny-llama2.f32.gguf", "tiny-llama2", "tiny-llama2.f32.long.json"},
               {"tiny-phi2.f32.gguf", "tiny-phi2", "tiny-phi2.f32.long.json"}};
  for (const auto& p : pairs) {
    auto from_gguf = MustLoad(Models(p.gguf));
    auto from_hf = MustLoad(Models(p.dir));
    ASSERT_NE(from_gguf, nullptr);
    ASSERT_NE(from_hf, nullptr);
    const std::vector<int32_t> prompt = PromptOf(p.case_file);
    const std::vector<float> a = EvalAllLogits(*from_gguf, prompt);
    const std::vector<float> b = EvalAllLogits(*from_hf, prompt);
    ASSERT_FALSE(a.empty());
    const double diff = MaxAbsDiff(a, b);
    std::printf("[hf-vs-gguf] %s: max|diff| %.3g over %zu logits\n", p.dir, diff, a.size());
    EXPECT_LE(diff, 1e-5) << p.dir;
  }
}

absl::Status LoadStatus(const std::string& path) { return Model::Load(path, {}).status(); }

const std::string kStories = "stories260K.gguf";

TEST(ModelLoadErrorTest, WrongShapeNamesTensorAndShapes) {
  GgufEdits edits;
  edits.tensor = [](const TensorView& t, GgufWriter& w) {
    if (t.name != "blk.0.attn_q.weight") return false;
    // 32 rows of 64 instead of 64 rows.
    EXPECT_TRUE(w.AddTensor(t.name, t.type, {64, 32}, TensorBytes(t).substr(0, 64 * 32 * 4)).ok());
    return true;
  };
  const absl::Status st = LoadStatus(CopyGguf(Models(kStories), "shape.gguf", edits));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_THAT(st.message(), AllOf(HasSubstr("blk.0.attn_q.weight"), HasSubstr("[64, 32]"),
                                  HasSubstr("expected [64, 64]")));
}

TEST(ModelLoadErrorTest, MissingTensorIsNamed) {
  GgufEdits edits;
  edits.tensor = [](const TensorView& t, GgufWriter&) { return t.name == "blk.1.ffn_up.weight"; };
  const absl::Status st = LoadStatus(CopyGguf(Models(kStories), "missing.gguf", edits));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_THAT(st.message(), AllOf(HasSubstr("blk.1.ffn_up.weight"), HasSubstr("missing")));
}

TEST(ModelLoadErrorTest, UnsupportedTypeNamesTensorAndType) {
  GgufEdits edits;
  edits.tensor = [](const TensorView& t, GgufWriter& w) {
    if (t.name != "blk.0.attn_v.weight") return false;
    // Q5_1: 2 blocks of 24 bytes per 64-value row, 32 rows.
    EXPECT_TRUE(w.AddTensor(t.name, DType::kQ5_1, {64, 32}, std::string(32 * 2 * 24, '\0')).ok());
    return true;
  };
  const absl::Status st = LoadStatus(CopyGguf(Models(kStories), "q51.gguf", edits));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented) << st;
  EXPECT_THAT(st.message(), AllOf(HasSubstr("blk.0.attn_v.weight"), HasSubstr("Q5_1")));
}

TEST(ModelLoadErrorTest, UnsupportedArchitecture) {
  GgufEdits edits;
  edits.drop_keys = {"general.architecture"};
  edits.add_metadata = [](GgufWriter& w) { w.AddString("general.architecture", "falcon"); };
  const absl::Status st = LoadStatus(CopyGguf(Models(kStories), "falcon.gguf", edits));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented) << st;
  EXPECT_THAT(st.message(), HasSubstr("falcon"));
}

TEST(ModelLoadErrorTest, MissingHyperParameterIsNamed) {
  GgufEdits edits;
  edits.drop_keys = {"llama.block_count"};
  const absl::Status st = LoadStatus(CopyGguf(Models(kStories), "noblocks.gguf", edits));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_THAT(st.message(), HasSubstr("llama.block_count"));
}

TEST(ModelLoadErrorTest, InconsistentHeadsRejected) {
  GgufEdits edits;
  edits.drop_keys = {"llama.attention.head_count_kv"};
  edits.add_metadata = [](GgufWriter& w) { w.AddUint32("llama.attention.head_count_kv", 3); };
  const absl::Status st = LoadStatus(CopyGguf(Models(kStories), "heads.gguf", edits));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_THAT(st.message(), HasSubstr("kv head"));
}

TEST(ModelLoadErrorTest, MissingFileIsIoError) {
  const absl::Status st = LoadStatus(TestDataPath("models/does-not-exist.gguf"));
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(st.code() == absl::StatusCode::kNotFound || st.code() == absl::StatusCode::kUnavailable)
      << st;
}

TEST(ModelLoadTest, MissingOutputTiesToEmbedding) {
  GgufEdits edits;
  edits.tensor = [](const TensorView& t, GgufWriter&) { return t.name == "output.weight"; };
  auto model = MustLoad(CopyGguf(Models(kStories), "tied.gguf", edits));
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->weights().output.data, model->weights().token_embd.data);
  EXPECT_EQ(model->weights().output.rows, 512);
  EXPECT_FALSE(EvalAllLogits(*model, {1, 100, 200}).empty());
}

// Phi-2 GGUFs from some converters fuse Q, K and V into attn_qkv; the loader splits it into
// row ranges, so the logits must not change.
TEST(ModelLoadTest, FusedPhi2QkvGivesSameLogits) {
  auto src = GgufFile::Open(Models("tiny-phi2.f32.gguf"));
  ASSERT_TRUE(src.ok()) << src.status();
  const GgufFile& gguf = **src;
  GgufEdits edits;
  edits.tensor = [&gguf](const TensorView& t, GgufWriter& w) {
    const std::string& n = t.name;
    const size_t pos = n.find(".attn_q.");
    if (pos != std::string::npos) {
      const std::string prefix = n.substr(0, pos), suffix = n.substr(pos + 8);  // weight|bias
      const TensorView* k = gguf.FindTensor(prefix + ".attn_k." + suffix);
      const TensorView* v = gguf.FindTensor(prefix + ".attn_v." + suffix);
      std::vector<int64_t> ne = TensorDims(t);
      ne.back() += TensorDims(*k).back() + TensorDims(*v).back();
      EXPECT_TRUE(w.AddTensor(prefix + ".attn_qkv." + suffix, t.type, ne,
                              TensorBytes(t) + TensorBytes(*k) + TensorBytes(*v))
                      .ok());
      return true;
    }
    return n.find(".attn_k.") != std::string::npos || n.find(".attn_v.") != std::string::npos;
  };
  auto fused = MustLoad(CopyGguf(Models("tiny-phi2.f32.gguf"), "fused.gguf", edits));
  auto plain = MustLoad(Models("tiny-phi2.f32.gguf"));
  ASSERT_NE(fused, nullptr);
  ASSERT_NE(plain, nullptr);
  const std::vector<int32_t> prompt = PromptOf("tiny-phi2.f32.code.json");
  const std::vector<float> a = EvalAllLogits(*fused, prompt);
  const std::vector<float> b = EvalAllLogits(*plain, prompt);
  ASSERT_FALSE(a.empty());
  EXPECT_LE(MaxAbsDiff(a, b), 1e-6);
}

// Quantizing the float HF weights at load time with the same round-to-nearest Q8_0 rule
// llama-quantize used must reproduce the Q8_0 GGUF's logits.
TEST(ModelLoadTest, Q8_0AtLoadMatchesQ8_0Gguf) {
  if (ActiveKernels().q8_0.rows == nullptr) GTEST_SKIP() << "no Q8_0 kernel";
  ModelLoadOptions options;
  options.weight_format = WeightFormat::kQ8_0;
  auto converted = MustLoad(Models("tiny-llama2"), options);
  auto stored = MustLoad(Models("tiny-llama2.q8_0.gguf"));
  ASSERT_NE(converted, nullptr);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(converted->weights().layers[0].wq.type, DType::kQ8_0);
  EXPECT_EQ(converted->weights().output.type, DType::kQ8_0);
  const std::vector<int32_t> prompt = PromptOf("tiny-llama2.q8_0.long.json");
  const std::vector<float> a = EvalAllLogits(*converted, prompt);
  const std::vector<float> b = EvalAllLogits(*stored, prompt);
  ASSERT_FALSE(a.empty());
  const double diff = MaxAbsDiff(a, b);
  std::printf("[q8_0-at-load] max|diff| vs tiny-llama2.q8_0.gguf %.3g\n", diff);
  EXPECT_LE(diff, 1e-5);
}

TEST(ModelLoadTest, Q4_0AtLoadConvertsMatrices) {
  if (ActiveKernels().q4_0.rows == nullptr) GTEST_SKIP() << "no Q4_0 kernel";
  ModelLoadOptions options;
  options.weight_format = WeightFormat::kQ4_0;
  auto model = MustLoad(Models("tiny-phi2"), options);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->weights().layers[1].w_down.type, DType::kQ4_0);
  EXPECT_EQ(model->weights().layers[1].wq.type, DType::kQ4_0);
  const std::vector<float> logits = EvalAllLogits(*model, {50256, 100});
  ASSERT_FALSE(logits.empty());
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace ember::testing
