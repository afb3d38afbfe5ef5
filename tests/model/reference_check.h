// Checks a model's logits against one reference case of tests/data/reference (see its
// README): prompt top-20 logits at every position, the full last-position vector, then a
// 32-step greedy continuation with its top-5 logits. Header-only; shared by the model tests.
#ifndef EMBER_TESTS_MODEL_REFERENCE_CHECK_H_
#define EMBER_TESTS_MODEL_REFERENCE_CHECK_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "lib/runtime/session.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace ember::testing {

// Which of a case's two references to use and how strictly.
struct ReferenceChoice {
  const nlohmann::json* ref = nullptr;  // the case JSON or its dequantized_f32_reference
  float tolerance = 1e-3f;
  // Greedy tokens must match for steps before this one (the reference's own bound where
  // the margin drops below 2 * tolerance).
  int greedy_exact_steps = 32;
};

struct CaseResult {
  double max_prompt_diff = 0.0;
  double max_last_diff = 0.0;
  double max_greedy_diff = 0.0;
  int greedy_steps_compared = 0;
};

inline int Argmax(absl::Span<const float> logits) {
  int best = 0;
  for (int i = 1; i < static_cast<int>(logits.size()); ++i) {
    if (logits[i] > logits[best]) best = i;  // strict: lowest id wins ties
  }
  return best;
}

// Max |ours[id] - logit| over a list of [id, logit] pairs; reports each miss.
inline double CompareListed(const nlohmann::json& pairs, const float* ours, float tolerance,
                            const std::string& where) {
  double max_diff = 0.0;
  for (const auto& pair : pairs) {
    const int id = pair[0].get<int>();
    const double want = pair[1].get<double>();
    const double diff = std::fabs(ours[id] - want);
    max_diff = std::max(max_diff, diff);
    EXPECT_LE(diff, tolerance) << where << " id " << id << ": ours " << ours[id] << " ref "
                               << want;
  }
  return max_diff;
}

// First step whose reference top1-top2 margin is below `margin` (32 if none).
inline int FirstStepWithMarginBelow(const nlohmann::json& greedy, double margin) {
  const auto& margins = greedy["top1_top2_margin"];
  for (int t = 0; t < static_cast<int>(margins.size()); ++t) {
    if (margins[t].get<double>() < margin) return t;
  }
  return static_cast<int>(margins.size());
}

// The prompt of a reference case.
inline std::vector<int32_t> PromptOf(const std::string& case_file) {
  return ReadJson(TestDataPath("reference/" + case_file))["prompt_token_ids"]
      .get<std::vector<int32_t>>();
}

// Logits of every position of `tokens` evaluated in one fresh session (empty on failure).
inline std::vector<float> EvalAllLogits(const Model& model, const std::vector<int32_t>& tokens,
                                        SessionOptions options = {}) {
  if (options.n_ctx == 0) options.n_ctx = static_cast<int32_t>(tokens.size()) + 8;
  auto session = Session::Create(model, options);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return {};
  std::vector<float> all(tokens.size() * model.config().n_vocab);
  const absl::Status st = (*session)->Eval(tokens, all.data(), nullptr);
  EXPECT_TRUE(st.ok()) << st;
  if (!st.ok()) return {};
  return all;
}

inline double MaxAbsDiff(absl::Span<const float> a, absl::Span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return m;
}

// Runs the whole case on a fresh session of `model`. `session_options` lets callers vary
// n_batch or threads; n_ctx is set to fit the case.
inline CaseResult CheckReferenceCase(const Model& model, const nlohmann::json& case_json,
                                     const ReferenceChoice& choice,
                                     SessionOptions session_options = {}) {
  CaseResult result;
  const nlohmann::json& ref = *choice.ref;
  const std::string name = case_json["model"].get<std::string>() + "." +
                           case_json["case"].get<std::string>();
  const std::vector<int32_t> prompt = case_json["prompt_token_ids"].get<std::vector<int32_t>>();
  const int n_vocab = case_json["n_vocab"].get<int>();
  EXPECT_EQ(model.config().n_vocab, n_vocab);
  session_options.n_ctx = static_cast<int32_t>(prompt.size()) + 40;
  auto session = Session::Create(model, session_options);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return result;
  Session& s = **session;

  std::vector<float> all(prompt.size() * n_vocab);
  absl::Status st = s.Eval(prompt, all.data(), nullptr);
  EXPECT_TRUE(st.ok()) << st;
  if (!st.ok()) return result;

  const auto& top = ref["prompt_top_logits"];
  EXPECT_EQ(top.size(), prompt.size());
  for (size_t i = 0; i < top.size() && i < prompt.size(); ++i) {
    result.max_prompt_diff = std::max(
        result.max_prompt_diff, CompareListed(top[i], all.data() + i * n_vocab, choice.tolerance,
                                              name + " prompt pos " + std::to_string(i)));
  }
  const std::vector<float> last =
      ReadF32File(TestDataPath("reference/" + ref["last_prompt_logits_file"].get<std::string>()));
  EXPECT_EQ(static_cast<int>(last.size()), n_vocab);
  absl::Span<const float> ours = s.last_logits();
  for (size_t i = 0; i < last.size() && i < ours.size(); ++i) {
    const double diff = std::fabs(ours[i] - last[i]);
    result.max_last_diff = std::max(result.max_last_diff, diff);
    // The all-logits row of the last position is the same vector.
    EXPECT_EQ(ours[i], all[(prompt.size() - 1) * n_vocab + i]);
  }
  EXPECT_LE(result.max_last_diff, choice.tolerance) << name << " last-position logits";

  const nlohmann::json& greedy = ref["greedy"];
  const std::vector<int32_t> want = greedy["token_ids"].get<std::vector<int32_t>>();
  for (int t = 0; t < static_cast<int>(want.size()); ++t) {
    absl::Span<const float> logits = s.last_logits();
    result.max_greedy_diff = std::max(
        result.max_greedy_diff, CompareListed(greedy["top_logits"][t], logits.data(),
                                              choice.tolerance,
                                              name + " greedy step " + std::to_string(t)));
    result.greedy_steps_compared = t + 1;
    const int32_t token = Argmax(logits);
    if (t < choice.greedy_exact_steps) {
      EXPECT_EQ(token, want[t]) << name << " greedy step " << t;
    }
    // After a (tolerated) divergence the reference path no longer applies.
    if (token != want[t]) break;
    st = s.Eval({token}, nullptr, nullptr);
    EXPECT_TRUE(st.ok()) << st;
    if (!st.ok()) break;
  }
  return result;
}

}  // namespace ember::testing

#endif  // EMBER_TESTS_MODEL_REFERENCE_CHECK_H_
