// SessionOptions::kv_type: an F16 or BF16 KV cache halves kv_bytes and changes the logits
// of the tiny models only by the rounding of keys and values (bounds measured below), and
// keeps the greedy continuation of the real stories260K model.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/runtime/session.h"
#include "tests/model/reference_check.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

// Bounds on max |logit difference| to the F32 cache over every position of the "long"
// prompt and 16 greedy steps, with ~1.5-2x headroom over what was measured:
//                      F16      BF16
//   stories260K        0.037    0.198   (a trained model: logits of larger magnitude)
//   tiny-llama2.f32    0.0031   0.0265
//   tiny-phi2.f32      0.0033   0.0265
//   tiny-mistral       0.0048   0.0283
// Half keeps 11 significant bits, bfloat16 8: BF16 errors are ~8x F16's.
struct TinyModel {
  std::string file;     // under tests/data/models
  std::string variant;  // reference prefix
  int32_t n_batch;      // small for the windowed model: its ring then wraps
  double f16_bound;
  double bf16_bound;
};

const TinyModel kModels[] = {
    {"stories260K.gguf", "stories260K", 256, 6e-2, 0.3},
    {"tiny-llama2.f32.gguf", "tiny-llama2.f32", 256, 1e-2, 5e-2},
    {"tiny-phi2.f32.gguf", "tiny-phi2.f32", 256, 1e-2, 5e-2},
    {"tiny-mistral", "tiny-mistral.f32", 8, 1e-2, 5e-2},
};

// Logits of every prompt position, then of 16 greedy steps (greedy on the F32 path's
// tokens, so every run sees the same inputs).
std::vector<float> RunLogits(const Model& model, const std::vector<int32_t>& prompt,
                             const std::vector<int32_t>& continuation, KvType kv_type,
                             int32_t n_batch, uint64_t* kv_bytes) {
  SessionOptions o;
  o.n_ctx = static_cast<int32_t>(prompt.size() + continuation.size()) + 8;
  o.n_batch = n_batch;
  o.kv_type = kv_type;
  auto s = Session::Create(model, o);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  const int n_vocab = model.config().n_vocab;
  std::vector<float> all(prompt.size() * n_vocab);
  EXPECT_TRUE((*s)->Eval(prompt, all.data(), nullptr).ok());
  for (const int32_t token : continuation) {
    EXPECT_TRUE((*s)->Eval({token}, nullptr, nullptr).ok());
    const absl::Span<const float> l = (*s)->last_logits();
    all.insert(all.end(), l.begin(), l.end());
  }
  *kv_bytes = (*s)->kv_bytes();
  return all;
}

TEST(KvTypeTest, HalfPrecisionCacheStaysWithinMeasuredBound) {
  for (const TinyModel& m : kModels) {
    auto model = Model::Load(TestDataPath("models/" + m.file), {});
    ASSERT_TRUE(model.ok()) << model.status();
    const std::vector<int32_t> prompt = PromptOf(m.variant + ".long.json");
    const std::vector<int32_t> continuation =
        ReadJson(TestDataPath("reference/" + m.variant + ".long.json"))["greedy"]["token_ids"]
            .get<std::vector<int32_t>>();
    const std::vector<int32_t> steps(continuation.begin(), continuation.begin() + 16);
    uint64_t bytes_f32 = 0, bytes_f16 = 0, bytes_bf16 = 0;
    const std::vector<float> f32 = RunLogits(**model, prompt, steps, KvType::kF32, m.n_batch, &bytes_f32);
    const std::vector<float> f16 = RunLogits(**model, prompt, steps, KvType::kF16, m.n_batch, &bytes_f16);
    const std::vector<float> bf16 = RunLogits(**model, prompt, steps, KvType::kBF16, m.n_batch, &bytes_bf16);
    const double d16 = MaxAbsDiff(f32, f16), db16 = MaxAbsDiff(f32, bf16);
    std::printf("[kv-type] %-22s max|logit diff| vs F32 KV: F16 %.3g BF16 %.3g; kv bytes %llu / %llu / %llu\n",
                m.file.c_str(), d16, db16, static_cast<unsigned long long>(bytes_f32),
                static_cast<unsigned long long>(bytes_f16), static_cast<unsigned long long>(bytes_bf16));
    EXPECT_LE(d16, m.f16_bound) << m.file;
    EXPECT_LE(db16, m.bf16_bound) << m.file;
    // The cache really is stored rounded (a cache that ignored kv_type would give 0).
    EXPECT_GT(d16, 0.0) << m.file;
    EXPECT_GT(db16, d16) << m.file;
    EXPECT_EQ(bytes_f16 * 2, bytes_f32) << m.file;
    EXPECT_EQ(bytes_bf16 * 2, bytes_f32) << m.file;
  }
}

TEST(KvTypeTest, Stories260KGreedyTokensUnchangedWithF16Cache) {
  auto model = Model::Load(TestDataPath("models/stories260K.gguf"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  const nlohmann::json c = ReadJson(TestDataPath("reference/stories260K.short.json"));
  ReferenceChoice choice;
  choice.ref = &c;
  choice.tolerance = static_cast<float>(kModels[0].f16_bound);
  choice.greedy_exact_steps = FirstStepWithMarginBelow(c["greedy"], 2 * choice.tolerance);
  ASSERT_EQ(choice.greedy_exact_steps, 32);  // the case's margins (>= 0.13) allow no tie
  SessionOptions o;
  o.kv_type = KvType::kF16;
  const CaseResult r = CheckReferenceCase(**model, c, choice, o);
  EXPECT_EQ(r.greedy_steps_compared, 32);
  std::printf("[kv-type] stories260K.short F16 KV vs reference: prompt %.3g last %.3g greedy %.3g\n",
              r.max_prompt_diff, r.max_last_diff, r.max_greedy_diff);
}

TEST(KvTypeTest, MaxKvBytesCountsTheElementSize) {
  auto model = Model::Load(TestDataPath("models/tiny-llama2.f32.gguf"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  const ModelConfig& c = (*model)->config();
  const uint64_t f32_bytes = 2ull * c.n_layer * c.n_head_kv * c.head_dim * 128 * 4;
  SessionOptions o;
  o.n_ctx = 128;
  o.max_kv_bytes = f32_bytes / 2;
  EXPECT_FALSE(Session::Create(**model, o).ok());
  o.kv_type = KvType::kF16;
  EXPECT_TRUE(Session::Create(**model, o).ok());
  o.kv_type = KvType::kBF16;
  EXPECT_TRUE(Session::Create(**model, o).ok());
}

TEST(KvTypeTest, UnknownKvTypeIsRejected) {
  auto model = Model::Load(TestDataPath("models/stories260K.gguf"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions o;
  o.kv_type = static_cast<KvType>(7);
  auto s = Session::Create(**model, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  EXPECT_NE(s.status().message().find("kv_type 7"), std::string::npos) << s.status();
}

}  // namespace
}  // namespace ember::testing
