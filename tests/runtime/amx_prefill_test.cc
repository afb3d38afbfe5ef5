// Model-level fidelity of the AMX-BF16 prefill path. A 300-token batch (above the 192-token
// threshold) is evaluated on the tiny Q8_0 models three ways: exact numerics (dequantized
// weights, float FMA: the reference), the int8 VNNI path (llama.cpp's scheme), and AMX-BF16.
// AMX must stay within the tolerance the int8 path is held to against llama.cpp's reference
// logits (0.5), and be at least as close to the exact result as the int8 path on average —
// the fidelity claim in kernels/amx/amx_bf16_gemm.h. Skips where AMX is unavailable.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "lib/model/model.h"
#include "lib/runtime/session.h"
#include "tests/support/test_support.h"

namespace ember {
namespace {

constexpr int kTokens = 300;

std::vector<float> AllLogits(const Model& model, const std::vector<int32_t>& tokens) {
  SessionOptions options;
  options.n_ctx = 512;
  options.n_batch = kTokens;  // one batch: the AMX path sees all 300 tokens
  auto s = Session::Create(model, options);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  std::vector<float> logits(static_cast<size_t>(tokens.size()) * model.config().n_vocab);
  const absl::Status st = (*s)->Eval(tokens, logits.data(), nullptr);
  EXPECT_TRUE(st.ok()) << st;
  return logits;
}

struct Distance {
  double max = 0.0, mean = 0.0;
};

Distance Compare(const std::vector<float>& a, const std::vector<float>& b) {
  Distance d;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(static_cast<double>(a[i]) - b[i]);
    d.max = std::max(d.max, e);
    d.mean += e;
  }
  d.mean /= static_cast<double>(a.size());
  return d;
}

class AmxPrefillTest : public ::testing::TestWithParam<const char*> {
 protected:
  void TearDown() override {
    SetAmxAllowed(true);
    SetQuantNumerics(numerics_);
  }
  QuantNumerics numerics_ = ActiveQuantNumerics();
};

TEST_P(AmxPrefillTest, CloserToExactThanInt8) {
  if (!AmxUsable()) GTEST_SKIP() << "this CPU / OS / process cannot use AMX";
  auto model = Model::Load(testing::TestDataPath(std::string("models/") + GetParam()), {});
  ASSERT_TRUE(model.ok()) << model.status();
  const int32_t n_vocab = (*model)->config().n_vocab;
  std::vector<int32_t> tokens(kTokens);
  for (int i = 0; i < kTokens; ++i) tokens[i] = static_cast<int32_t>((7919LL * i + 13) % (n_vocab - 16) + 3);

  SetQuantNumerics(QuantNumerics::kExact);
  const std::vector<float> exact = AllLogits(**model, tokens);
  SetQuantNumerics(QuantNumerics::kInt8);
  SetAmxAllowed(false);
  const std::vector<float> int8 = AllLogits(**model, tokens);
  SetAmxAllowed(true);
  const std::vector<float> amx = AllLogits(**model, tokens);
  ASSERT_FALSE(exact.empty());

  const Distance d_int8 = Compare(int8, exact), d_amx = Compare(amx, exact);
  std::printf("%s: |logit - exact| int8 max %.4f mean %.5f; AMX-BF16 max %.4f mean %.5f\n", GetParam(),
              d_int8.max, d_int8.mean, d_amx.max, d_amx.mean);
  EXPECT_GT(Compare(amx, int8).max, 0.0) << "the AMX path did not run";
  EXPECT_LE(d_amx.max, 0.5);
  EXPECT_LE(d_amx.mean, d_int8.mean);
}

INSTANTIATE_TEST_SUITE_P(TinyQ8Models, AmxPrefillTest,
                         ::testing::Values("tiny-phi2.q8_0.gguf", "tiny-llama2.q8_0.gguf", "tiny-mistral.q8_0.gguf"));

}  // namespace
}  // namespace ember
