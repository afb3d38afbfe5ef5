// ember_session_eval_batch as a host sees it: per-session outcomes with each session's
// logits bit-identical to evaluating it alone, a failing session left as it was, and
// malformed calls rejected with a message, touching no session and no status.
#include <cstring>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gtest/gtest.h"
#include "tests/support/api_expect.h"
#include "tests/support/test_support.h"

namespace {

using ember::testing::TestDataPath;

class BatchApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ember_model_load(TestDataPath("models/stories260K.gguf").c_str(), nullptr, &model_), EMBER_OK)
        << ember_last_error();
    ASSERT_EQ(ember_session_options_create(&options_), EMBER_OK);
    ASSERT_EQ(ember_session_options_set_n_ctx(options_, 32), EMBER_OK);
    ASSERT_EQ(ember_session_options_set_n_threads(options_, 2), EMBER_OK);
  }
  void TearDown() override {
    for (ember_session* s : sessions_) ember_session_free(s);
    ember_session_options_free(options_);
    ember_model_free(model_);
  }
  // A session that has evaluated `history` ids.
  ember_session* NewSession(const std::vector<int32_t>& history) {
    ember_session* s = nullptr;
    EXPECT_EQ(ember_session_create(model_, options_, &s), EMBER_OK) << ember_last_error();
    sessions_.push_back(s);
    if (s != nullptr && !history.empty()) {
      EXPECT_EQ(ember_session_eval(s, history.data(), history.size(), nullptr, 0), EMBER_OK);
    }
    return s;
  }
  static std::vector<float> Logits(const ember_session* s) {
    const float* l = nullptr;
    size_t n = 0;
    if (ember_session_logits(s, &l, &n) != EMBER_OK) return {};
    return {l, l + n};
  }
  static bool Same(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  }

  ember_model* model_ = nullptr;
  ember_session_options* options_ = nullptr;
  std::vector<ember_session*> sessions_;
};

TEST_F(BatchApiTest, EachSessionGetsTheLogitsItWouldGetAlone) {
  const std::vector<std::vector<int32_t>> histories = {{1, 40, 41}, {1, 7}, {1, 9, 10, 11, 12}, {1}};
  const std::vector<std::vector<int32_t>> feeds = {{50}, {60, 61}, {70}, {80, 81, 82, 83, 84, 85, 86, 87, 88, 89}};
  std::vector<ember_session*> batch;
  std::vector<int32_t> tokens;
  std::vector<size_t> counts;
  std::vector<std::vector<float>> alone;
  for (size_t i = 0; i < histories.size(); ++i) {
    ember_session* twin = NewSession(histories[i]);
    ASSERT_EQ(ember_session_eval(twin, feeds[i].data(), feeds[i].size(), nullptr, 0), EMBER_OK);
    alone.push_back(Logits(twin));
    batch.push_back(NewSession(histories[i]));
    tokens.insert(tokens.end(), feeds[i].begin(), feeds[i].end());
    counts.push_back(feeds[i].size());
  }
  std::vector<ember_status> statuses(batch.size(), EMBER_ERR_INTERNAL);
  ASSERT_EQ(ember_session_eval_batch(batch.data(), batch.size(), tokens.data(), counts.data(), statuses.data()),
            EMBER_OK)
      << ember_last_error();
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(statuses[i], EMBER_OK) << i;
    EXPECT_EQ(ember_session_n_past(batch[i]), static_cast<int32_t>(histories[i].size() + feeds[i].size()));
    EXPECT_TRUE(Same(Logits(batch[i]), alone[i])) << "session " << i;
  }
}

TEST_F(BatchApiTest, AFailingSessionKeepsItsStateAndReportsItsError) {
  ember_session* ok = NewSession({1, 5});
  ember_session* bad = NewSession({1, 6});
  ember_session* full = NewSession(std::vector<int32_t>(32, 9));
  const std::vector<float> bad_logits = Logits(bad), full_logits = Logits(full);
  ember_session* batch[] = {ok, bad, full};
  const int32_t tokens[] = {3, ember_model_n_vocab(model_), 4};
  const size_t counts[] = {1, 1, 1};
  ember_status statuses[3];
  ASSERT_EQ(ember_session_eval_batch(batch, 3, tokens, counts, statuses), EMBER_OK);
  EXPECT_EQ(statuses[0], EMBER_OK);
  EXPECT_EQ(statuses[1], EMBER_ERR_INVALID_TOKEN);
  EXPECT_EQ(statuses[2], EMBER_ERR_CONTEXT_FULL);
  // The last failing session's message.
  EXPECT_NE(std::string(ember_last_error()).find("context full"), std::string::npos) << ember_last_error();
  EXPECT_EQ(ember_session_n_past(ok), 3);
  EXPECT_EQ(ember_session_n_past(bad), 2);
  EXPECT_TRUE(Same(Logits(bad), bad_logits));
  EXPECT_EQ(ember_session_n_past(full), 32);
  EXPECT_TRUE(Same(Logits(full), full_logits));
}

TEST_F(BatchApiTest, MalformedCallsTouchNothing) {
  ember_session* a = NewSession({1, 5});
  ember_session* b = NewSession({1, 6});
  ember_model* other = nullptr;
  ASSERT_EQ(ember_model_load(TestDataPath("models/llama-2-tiny-random.gguf").c_str(), nullptr, &other), EMBER_OK);
  ember_session* c = nullptr;
  ASSERT_EQ(ember_session_create(other, options_, &c), EMBER_OK);
  const int32_t tokens[] = {3, 4, 5};
  const size_t ones[] = {1, 1, 1};
  ember_status statuses[3] = {EMBER_ERR_INTERNAL, EMBER_ERR_INTERNAL, EMBER_ERR_INTERNAL};

  ember_session* pair[] = {a, b};
  EXPECT_FAILS_WITH(ember_session_eval_batch(nullptr, 2, tokens, ones, statuses), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_session_eval_batch(pair, 2, tokens, nullptr, statuses), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_session_eval_batch(pair, 2, tokens, ones, nullptr), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_session_eval_batch(pair, 2, nullptr, ones, statuses), EMBER_ERR_INVALID_ARGUMENT,
                    "tokens is NULL");
  EXPECT_FAILS_WITH(ember_session_eval_batch(pair, 0, tokens, ones, statuses), EMBER_ERR_INVALID_ARGUMENT,
                    "n_sessions is 0");
  ember_session* with_null[] = {a, nullptr};
  EXPECT_FAILS_WITH(ember_session_eval_batch(with_null, 2, tokens, ones, statuses), EMBER_ERR_INVALID_ARGUMENT,
                    "sessions[1] is NULL");
  ember_session* repeated[] = {a, b, a};
  EXPECT_FAILS_WITH(ember_session_eval_batch(repeated, 3, tokens, ones, statuses), EMBER_ERR_INVALID_ARGUMENT,
                    "twice");
  ember_session* mixed[] = {a, c};
  EXPECT_FAILS_WITH(ember_session_eval_batch(mixed, 2, tokens, ones, statuses), EMBER_ERR_INVALID_ARGUMENT,
                    "different models");
  const size_t huge[] = {1, static_cast<size_t>(INT32_MAX) + 1};
  EXPECT_FAILS_WITH(ember_session_eval_batch(pair, 2, tokens, huge, statuses), EMBER_ERR_INVALID_ARGUMENT,
                    "INT32_MAX");
  for (const ember_status s : statuses) EXPECT_EQ(s, EMBER_ERR_INTERNAL);  // never written
  EXPECT_EQ(ember_session_n_past(a), 2);
  EXPECT_EQ(ember_session_n_past(b), 2);
  EXPECT_EQ(ember_session_n_past(c), 0);
  ember_session_free(c);
  ember_model_free(other);
}

// Zero ids for a session: it is left as it is and the call still evaluates the others.
TEST_F(BatchApiTest, ZeroIdsLeaveASessionAsItIs) {
  ember_session* a = NewSession({1, 5});
  ember_session* b = NewSession({1, 6});
  ember_session* batch[] = {a, b};
  const int32_t tokens[] = {7};
  const size_t counts[] = {0, 1};
  ember_status statuses[2];
  ASSERT_EQ(ember_session_eval_batch(batch, 2, tokens, counts, statuses), EMBER_OK);
  EXPECT_EQ(statuses[0], EMBER_OK);
  EXPECT_EQ(statuses[1], EMBER_OK);
  EXPECT_EQ(ember_session_n_past(a), 2);
  EXPECT_EQ(ember_session_n_past(b), 3);
}

}  // namespace
