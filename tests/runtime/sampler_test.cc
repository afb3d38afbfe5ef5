#include "lib/runtime/sampler.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/errors.h"

namespace ember {
namespace {

TEST(SamplerTest, GreedyPicksMaxLowestIdOnTies) {
  Sampler s(SamplerParams{});
  std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(s.Sample(logits, 4, {}), 1);
  EXPECT_EQ(ArgMax(logits), 1);
}

TEST(SamplerTest, NeverPicksIdsPastNValid) {
  Sampler greedy(SamplerParams{});
  std::vector<float> logits = {0.0f, 1.0f, 9.0f};
  EXPECT_EQ(greedy.Sample(logits, 2, {}), 1);
  SamplerParams p;
  p.temperature = 5.0f;
  Sampler hot(p);
  for (int i = 0; i < 200; ++i) EXPECT_LT(hot.Sample(logits, 2, {}), 2);
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDiffers) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[i] = static_cast<float>(i % 7) * 0.3f;
  Sampler a(p), b(p);
  std::vector<int32_t> ta, tb;
  for (int i = 0; i < 50; ++i) {
    ta.push_back(a.Sample(logits, 100, {}));
    tb.push_back(b.Sample(logits, 100, {}));
  }
  EXPECT_EQ(ta, tb);
  a.Reset();
  EXPECT_EQ(a.Sample(logits, 100, {}), ta[0]);
  p.seed = 43;
  Sampler c(p);
  std::vector<int32_t> tc;
  for (int i = 0; i < 50; ++i) tc.push_back(c.Sample(logits, 100, {}));
  EXPECT_NE(ta, tc);
}

TEST(SamplerTest, TopKOneIsGreedy) {
  SamplerParams p;
  p.temperature = 10.0f;
  p.top_k = 1;
  Sampler s(p);
  std::vector<float> logits = {0.1f, 0.3f, 0.2f};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.Sample(logits, 3, {}), 1);
}

TEST(SamplerTest, TopPKeepsOnlyTheHead) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_p = 0.5f;
  Sampler s(p);
  // Token 0 has ~88% of the mass: top_p 0.5 keeps it alone.
  std::vector<float> logits = {4.0f, 2.0f, 0.0f, 0.0f};
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s.Sample(logits, 4, {}), 0);
}

TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.min_p = 0.5f;
  Sampler s(p);
  // p1/p0 = e^-0.1 keeps token 1; token 2 is e^-5 of the max and must never appear.
  std::vector<float> logits = {5.0f, 4.9f, 0.0f};
  std::map<int32_t, int> counts;
  for (int i = 0; i < 300; ++i) counts[s.Sample(logits, 3, {})]++;
  EXPECT_EQ(counts[2], 0);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
}

TEST(SamplerTest, TemperatureSamplingFollowsTheDistribution) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  Sampler s(p);
  std::vector<float> logits = {0.0f, std::log(3.0f)};  // 25% / 75%
  int ones = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) ones += s.Sample(logits, 2, {}) == 1;
  EXPECT_NEAR(static_cast<double>(ones) / n, 0.75, 0.03);
}

TEST(SamplerTest, RepetitionPenaltyChangesGreedyChoice) {
  SamplerParams p;
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 4;
  Sampler s(p);
  std::vector<float> logits = {3.0f, 2.0f};
  std::vector<int32_t> history = {0};
  EXPECT_EQ(s.Sample(logits, 2, history), 1);  // 3/2 = 1.5 < 2
  // Outside the window: no penalty.
  std::vector<int32_t> old = {0, 1, 1, 1, 1};
  EXPECT_EQ(s.Sample(logits, 2, old), 0);  // 0 is 5 back; 1 penalized to 1.0
}

TEST(SamplerTest, NanLogitsNeverWin) {
  std::vector<float> logits = {std::nanf(""), 1.0f, std::nanf(""), 3.0f};
  EXPECT_EQ(ArgMax(logits), 3);
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 2;
  Sampler s(p);
  for (int i = 0; i < 50; ++i) {
    const int32_t id = s.Sample(logits, 4, {});
    EXPECT_TRUE(id == 1 || id == 3) << id;
  }
}

TEST(SamplerTest, ValidationNamesTheField) {
  SamplerParams p;
  p.top_p = 1.5f;
  absl::Status st = ValidateSamplerParams(p);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("top_p"), absl::string_view::npos);
  p = SamplerParams{};
  p.temperature = -1.0f;
  EXPECT_FALSE(ValidateSamplerParams(p).ok());
  p = SamplerParams{};
  p.repeat_penalty = 0.0f;
  EXPECT_FALSE(ValidateSamplerParams(p).ok());
  EXPECT_TRUE(ValidateSamplerParams(SamplerParams{}).ok());
}

}  // namespace
}  // namespace ember

namespace ember {
namespace {

TEST(SamplerAdjustmentTest, LogitBiasMovesAndForbidsTokens) {
  std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.0f};
  SamplerParams p;
  p.logit_bias = {{2, 1.5f}};
  EXPECT_EQ(Sampler(p).Sample(logits, 4, {}), 2);
  p.logit_bias = {{1, -INFINITY}};
  EXPECT_EQ(Sampler(p).Sample(logits, 4, {}), 2);
  // A token listed twice takes its last bias; a bias past n_valid has no effect.
  p.logit_bias = {{0, 10.0f}, {3, 50.0f}, {0, 0.0f}};
  EXPECT_EQ(Sampler(p).Sample(logits, 3, {}), 1);
  p.temperature = 1.0f;
  p.logit_bias = {{0, -INFINITY}, {2, -INFINITY}, {3, -INFINITY}};
  Sampler hot(p);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(hot.Sample(logits, 4, {}), 1);
  // Everything forbidden still returns a valid id.
  p.logit_bias.push_back({1, -INFINITY});
  Sampler none(p);
  const int32_t t = none.Sample(logits, 4, {});
  EXPECT_GE(t, 0);
  EXPECT_LT(t, 4);
}

TEST(SamplerAdjustmentTest, PresenceAndFrequencyPenaltiesCountThisCompletionsPicks) {
  const std::vector<float> logits = {1.0f, 0.9f, 0.0f};
  SamplerParams p;
  p.presence_penalty = 0.5f;
  Sampler presence(p);
  // 0 (1.0) -> then 0 is at 0.5 < 0.9 -> 1 -> both penalized once: 0.5 vs 0.4 -> 0.
  EXPECT_EQ(presence.Sample(logits, 3, {}), 0);
  EXPECT_EQ(presence.Sample(logits, 3, {}), 1);
  EXPECT_EQ(presence.Sample(logits, 3, {}), 0);
  EXPECT_EQ(presence.Sample(logits, 3, {}), 0);  // presence does not grow with the count

  p.presence_penalty = 0.0f;
  p.frequency_penalty = 0.06f;
  Sampler frequency(p);
  // 0 wins until picked twice (1.0 - 2 * 0.06 = 0.88 < 0.9).
  EXPECT_EQ(frequency.Sample(logits, 3, {}), 0);
  EXPECT_EQ(frequency.Sample(logits, 3, {}), 0);
  EXPECT_EQ(frequency.Sample(logits, 3, {}), 1);
  // A new completion forgets the counts; the context (history) does not count.
  frequency.StartCompletion();
  const std::vector<int32_t> history = {0, 0, 0, 0};
  EXPECT_EQ(frequency.Sample(logits, 3, history), 0);
  EXPECT_EQ(frequency.Sample(logits, 3, history), 0);
  frequency.Reset();
  EXPECT_EQ(frequency.Sample(logits, 3, {}), 0);
  EXPECT_EQ(frequency.Sample(logits, 3, {}), 0);

  // Negative penalties favour repeats.
  p.frequency_penalty = -1.0f;
  Sampler sticky(p);
  const std::vector<float> close = {0.9f, 1.0f};
  EXPECT_EQ(sticky.Sample(close, 2, {}), 1);
  EXPECT_EQ(sticky.Sample(close, 2, {}), 1);
}

TEST(SamplerAdjustmentTest, Validation) {
  SamplerParams p;
  p.presence_penalty = NAN;
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSamplerParams(p)));
  p.presence_penalty = 0.0f;
  p.frequency_penalty = INFINITY;
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSamplerParams(p)));
  p.frequency_penalty = -2.0f;
  EXPECT_TRUE(ValidateSamplerParams(p).ok());
  p.logit_bias = {{5, INFINITY}};
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSamplerParams(p)));
  p.logit_bias = {{5, NAN}};
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSamplerParams(p)));
  p.logit_bias = {{-1, 1.0f}};
  EXPECT_TRUE(IsInvalidToken(ValidateSamplerParams(p)));
  p.logit_bias = {{5, -INFINITY}, {2, 100.0f}};
  EXPECT_TRUE(ValidateSamplerParams(p).ok());
  NormalizeLogitBias(&p.logit_bias);
  ASSERT_EQ(p.logit_bias.size(), 2u);
  EXPECT_EQ(p.logit_bias[0].token, 2);
}

}  // namespace
}  // namespace ember

namespace ember {
namespace {

// The allowed set is a hard constraint: even NaN, -infinity or a -infinity bias on every
// allowed id cannot push the pick outside it, at any temperature.
TEST(SamplerMaskTest, PicksOnlyAllowedIdsWhateverTheLogits) {
  const std::vector<float> logits = {9.0f, NAN, -INFINITY, 5.0f, 1.0f, 8.0f};
  const std::vector<uint64_t> allowed = {(uint64_t{1} << 1) | (uint64_t{1} << 2) | (uint64_t{1} << 4)};
  for (float t : {0.0f, 0.7f, 1.5f}) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      SamplerParams p;
      p.temperature = t;
      p.seed = seed;
      p.logit_bias = {{4, -INFINITY}};
      Sampler s(p);
      const int32_t id = s.Sample(logits, 6, {}, allowed);
      EXPECT_TRUE(id == 1 || id == 2 || id == 4) << id;
    }
  }
  SamplerParams greedy;
  Sampler g(greedy);
  EXPECT_EQ(g.Sample(logits, 6, {}, allowed), 4);  // the largest allowed logit
}

}  // namespace
}  // namespace ember
