// Sampling options through the C API: logit bias, presence/frequency penalties, and
// replacing a session's sampler between calls without losing its context.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/api_expect.h"
#include "tests/support/test_support.h"

namespace {

using ::testing::HasSubstr;

class SamplerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ember_model_load(ember::testing::TestDataPath("models/stories260K.gguf").c_str(), nullptr, &model_),
              EMBER_OK);
    ASSERT_EQ(ember_sampler_options_create(&sampler_), EMBER_OK);
    ASSERT_EQ(ember_session_create(model_, nullptr, &session_), EMBER_OK);
    size_t n = 0;
    prompt_.resize(64);
    ASSERT_EQ(ember_tokenize(model_, "Once upon a time", 16, 0, prompt_.data(), prompt_.size(), &n), EMBER_OK);
    prompt_.resize(n);
  }
  void TearDown() override {
    ember_session_free(session_);
    ember_sampler_options_free(sampler_);
    ember_model_free(model_);
  }
  int32_t SampleOnce() {
    int32_t t = -1;
    EXPECT_EQ(ember_session_sample(session_, &t), EMBER_OK) << ember_last_error();
    return t;
  }

  ember_model* model_ = nullptr;
  ember_sampler_options* sampler_ = nullptr;
  ember_session* session_ = nullptr;
  std::vector<int32_t> prompt_;
};

TEST_F(SamplerApiTest, SetSamplerKeepsTheContextAndAppliesTheBias) {
  ASSERT_EQ(ember_session_eval(session_, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  const int32_t greedy = SampleOnce();
  const int32_t n_past = ember_session_n_past(session_);
  // Forbid the greedy choice: the next best comes instead, from the same context.
  const int32_t ids[] = {greedy};
  const float biases[] = {-INFINITY};
  ASSERT_EQ(ember_sampler_options_set_logit_bias(sampler_, ids, biases, 1), EMBER_OK);
  ASSERT_EQ(ember_session_set_sampler(session_, sampler_), EMBER_OK);
  EXPECT_EQ(ember_session_n_past(session_), n_past);
  const int32_t second = SampleOnce();
  EXPECT_NE(second, greedy);
  const float* logits = nullptr;
  size_t n_vocab = 0;
  ASSERT_EQ(ember_session_logits(session_, &logits, &n_vocab), EMBER_OK);
  for (size_t i = 0; i < n_vocab; ++i) {
    if (static_cast<int32_t>(i) != greedy) {
      EXPECT_LE(logits[i], logits[second]) << i;
    }
  }
  // A big positive bias makes any token the greedy pick; n = 0 removes the bias again.
  const int32_t favoured[] = {7};
  const float big[] = {1000.0f};
  ASSERT_EQ(ember_sampler_options_set_logit_bias(sampler_, favoured, big, 1), EMBER_OK);
  ASSERT_EQ(ember_session_set_sampler(session_, sampler_), EMBER_OK);
  EXPECT_EQ(SampleOnce(), 7);
  ASSERT_EQ(ember_sampler_options_set_logit_bias(sampler_, nullptr, nullptr, 0), EMBER_OK);
  ASSERT_EQ(ember_session_set_sampler(session_, sampler_), EMBER_OK);
  EXPECT_EQ(SampleOnce(), greedy);
}

TEST_F(SamplerApiTest, FrequencyPenaltyChangesGenerationButNotTheFirstToken) {
  auto generate = [&](float frequency) {
    EXPECT_EQ(ember_sampler_options_set_frequency_penalty(sampler_, frequency), EMBER_OK);
    EXPECT_EQ(ember_session_reset(session_), EMBER_OK);
    EXPECT_EQ(ember_session_set_sampler(session_, sampler_), EMBER_OK);
    std::vector<int32_t> ids;
    auto collect = [](void* user, int32_t token, const char*, size_t) -> int32_t {
      static_cast<std::vector<int32_t>*>(user)->push_back(token);
      return 0;
    };
    EXPECT_EQ(ember_session_generate(session_, "Once upon a time", 16, 0, 40, EMBER_GENERATE_IGNORE_EOS, collect,
                                     &ids, nullptr),
              EMBER_OK);
    return ids;
  };
  const std::vector<int32_t> plain = generate(0.0f), penalized = generate(100.0f);
  ASSERT_EQ(plain.size(), 40u);
  ASSERT_EQ(penalized.size(), 40u);
  EXPECT_EQ(plain[0], penalized[0]);  // nothing picked yet: nothing to penalize
  EXPECT_NE(plain, penalized);
  // A huge frequency penalty never picks a token twice in one completion (greedy).
  std::vector<int32_t> sorted = penalized;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

TEST_F(SamplerApiTest, BadArguments) {
  const int32_t ids[] = {1, -3};
  const float biases[] = {1.0f, 2.0f};
  const float bad[] = {NAN};
  const int32_t too_big[] = {ember_model_n_vocab(model_)};
  EXPECT_FAILS_WITH(ember_sampler_options_set_logit_bias(nullptr, ids, biases, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_logit_bias(sampler_, nullptr, biases, 1), EMBER_ERR_INVALID_ARGUMENT,
                    "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_logit_bias(sampler_, ids, nullptr, 1), EMBER_ERR_INVALID_ARGUMENT,
                    "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_logit_bias(sampler_, ids, biases, 2), EMBER_ERR_INVALID_TOKEN, "-3");
  EXPECT_FAILS_WITH(ember_sampler_options_set_logit_bias(sampler_, ids, bad, 1), EMBER_ERR_INVALID_ARGUMENT,
                    "logit bias");
  EXPECT_FAILS_WITH(ember_sampler_options_set_presence_penalty(nullptr, 1.0f), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_presence_penalty(sampler_, INFINITY), EMBER_ERR_INVALID_ARGUMENT,
                    "presence_penalty");
  EXPECT_FAILS_WITH(ember_sampler_options_set_frequency_penalty(sampler_, NAN), EMBER_ERR_INVALID_ARGUMENT,
                    "frequency_penalty");
  // An id past the model's vocabulary is refused where the model is known.
  ASSERT_EQ(ember_sampler_options_set_logit_bias(sampler_, too_big, biases, 1), EMBER_OK);
  ASSERT_EQ(ember_session_eval(session_, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  const int32_t before = SampleOnce();
  EXPECT_FAILS_WITH(ember_session_set_sampler(session_, sampler_), EMBER_ERR_INVALID_TOKEN, "n_vocab");
  EXPECT_EQ(ember_session_reset(session_), EMBER_OK);
  ASSERT_EQ(ember_session_eval(session_, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  EXPECT_EQ(SampleOnce(), before);  // the old sampler is still in place
  ember_session_options* o = nullptr;
  ASSERT_EQ(ember_session_options_create(&o), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_sampler(o, sampler_), EMBER_OK);
  ember_session* s = nullptr;
  EXPECT_FAILS_WITH(ember_session_create(model_, o, &s), EMBER_ERR_INVALID_TOKEN, "n_vocab");
  EXPECT_EQ(s, nullptr);
  ember_session_options_free(o);
  EXPECT_FAILS_WITH(ember_session_set_sampler(nullptr, sampler_), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS_WITH(ember_session_set_sampler(session_, nullptr), EMBER_ERR_INVALID_ARGUMENT, "sampler is NULL");
}

}  // namespace
