// The session state / clone / truncate / tokens / eval_reuse entry points as a host sees
// them: NULL arguments, the size-query pattern, error codes with messages, and a save ->
// load -> continue round trip through the C API (sampled tokens included).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

using ember::testing::TestDataPath;

class SessionStateApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ember_model_load(TestDataPath("models/stories260K.gguf").c_str(), nullptr, &model_), EMBER_OK)
        << ember_last_error();
    ASSERT_EQ(ember_session_options_create(&options_), EMBER_OK);
    ASSERT_EQ(ember_session_options_set_n_ctx(options_, 64), EMBER_OK);
    ASSERT_EQ(ember_session_options_set_n_threads(options_, 1), EMBER_OK);
    ember_sampler_options* sampler = nullptr;
    ASSERT_EQ(ember_sampler_options_create(&sampler), EMBER_OK);
    ASSERT_EQ(ember_sampler_options_set_temperature(sampler, 0.8f), EMBER_OK);
    ASSERT_EQ(ember_sampler_options_set_seed(sampler, 42), EMBER_OK);
    ASSERT_EQ(ember_session_options_set_sampler(options_, sampler), EMBER_OK);
    ember_sampler_options_free(sampler);
    session_ = NewSession();
  }
  void TearDown() override {
    ember_session_free(session_);
    ember_session_options_free(options_);
    ember_model_free(model_);
  }
  ember_session* NewSession() {
    ember_session* s = nullptr;
    EXPECT_EQ(ember_session_create(model_, options_, &s), EMBER_OK) << ember_last_error();
    return s;
  }
  static std::vector<float> Logits(const ember_session* s) {
    const float* l = nullptr;
    size_t n = 0;
    if (ember_session_logits(s, &l, &n) != EMBER_OK) return {};
    return {l, l + n};
  }
  static std::vector<int32_t> Tokens(const ember_session* s) {
    size_t n = 0;
    const ember_status st = ember_session_tokens(s, nullptr, 0, &n);
    EXPECT_EQ(st, n == 0 ? EMBER_OK : EMBER_ERR_BUFFER_TOO_SMALL);
    std::vector<int32_t> ids(n);
    EXPECT_EQ(ember_session_tokens(s, ids.data(), ids.size(), &n), EMBER_OK);
    return ids;
  }
  static std::string Save(const ember_session* s) {
    size_t size = 0;
    EXPECT_EQ(ember_session_state_save(s, nullptr, 0, &size), EMBER_ERR_BUFFER_TOO_SMALL);
    std::string blob(size, '\0');
    size_t written = 0;
    EXPECT_EQ(ember_session_state_save(s, blob.data(), blob.size(), &written), EMBER_OK) << ember_last_error();
    EXPECT_EQ(written, size);
    return blob;
  }

  ember_model* model_ = nullptr;
  ember_session_options* options_ = nullptr;
  ember_session* session_ = nullptr;
  const std::vector<int32_t> prompt_ = {1, 403, 407, 261, 378, 429, 271};
};

TEST_F(SessionStateApiTest, NullArgumentsAreInvalid) {
  size_t size = 0;
  char buf[8];
  EXPECT_EQ(ember_session_state_save(nullptr, nullptr, 0, &size), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ember_last_error()).find("session"), std::string::npos);
  EXPECT_EQ(ember_session_state_save(session_, nullptr, 0, nullptr), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_state_save(session_, nullptr, 8, &size), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_state_load(nullptr, buf, sizeof buf), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_state_load(session_, nullptr, 8), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_state_load(session_, nullptr, 0), EMBER_ERR_INVALID_ARGUMENT);  // empty: not a state
  EXPECT_EQ(ember_session_state_save_file(nullptr, "x"), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_state_save_file(session_, nullptr), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_state_load_file(nullptr, "x"), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_state_load_file(session_, nullptr), EMBER_ERR_INVALID_ARGUMENT);
  ember_session* out = reinterpret_cast<ember_session*>(buf);
  EXPECT_EQ(ember_session_clone(nullptr, &out), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(ember_session_clone(session_, nullptr), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_truncate(nullptr, 0), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_truncate(session_, -1), EMBER_ERR_INVALID_ARGUMENT);
  size_t n = 0;
  EXPECT_EQ(ember_session_tokens(nullptr, nullptr, 0, &n), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_tokens(session_, nullptr, 0, nullptr), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_tokens(session_, nullptr, 4, &n), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_eval_reuse(nullptr, prompt_.data(), prompt_.size(), &n), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_eval_reuse(session_, nullptr, 3, &n), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_session_n_past(session_), 0);
}

TEST_F(SessionStateApiTest, SaveLoadContinuesWithTheSameSampledTokens) {
  ASSERT_EQ(ember_session_eval(session_, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  int32_t t = 0;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(ember_session_sample(session_, &t), EMBER_OK);
    ASSERT_EQ(ember_session_eval(session_, &t, 1, nullptr, 0), EMBER_OK);
  }
  const std::string blob = Save(session_);
  // Too small by one byte: nothing written, the size reported.
  std::string small(blob.size() - 1, 'q');
  size_t size = 0;
  EXPECT_EQ(ember_session_state_save(session_, small.data(), small.size(), &size), EMBER_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(size, blob.size());
  EXPECT_EQ(small, std::string(blob.size() - 1, 'q'));

  ember_session* other = NewSession();
  ASSERT_EQ(ember_session_state_load(other, blob.data(), blob.size()), EMBER_OK) << ember_last_error();
  EXPECT_EQ(Tokens(other), Tokens(session_));
  for (int i = 0; i < 8; ++i) {
    const std::vector<float> a = Logits(session_), b = Logits(other);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << i;
    int32_t ta = 0, tb = 0;
    ASSERT_EQ(ember_session_sample(session_, &ta), EMBER_OK);
    ASSERT_EQ(ember_session_sample(other, &tb), EMBER_OK);
    ASSERT_EQ(ta, tb) << i;
    ASSERT_EQ(ember_session_eval(session_, &ta, 1, nullptr, 0), EMBER_OK);
    ASSERT_EQ(ember_session_eval(other, &tb, 1, nullptr, 0), EMBER_OK);
  }

  // A corrupted blob: rejected with a message, session unchanged.
  const std::vector<int32_t> tokens_before = Tokens(other);
  const std::vector<float> logits_before = Logits(other);
  std::string bad = blob;
  bad[bad.size() / 2] ^= 0x10;
  EXPECT_EQ(ember_session_state_load(other, bad.data(), bad.size()), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ember_last_error()).find("checksum"), std::string::npos) << ember_last_error();
  EXPECT_EQ(ember_session_state_load(other, blob.data(), blob.size() - 1), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(Tokens(other), tokens_before);
  EXPECT_EQ(Logits(other), logits_before);
  ember_session_free(other);
}

TEST_F(SessionStateApiTest, FilesRoundTripAndReportIoErrors) {
  ASSERT_EQ(ember_session_eval(session_, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  const std::string path = ::testing::TempDir() + "/ember_api_state.bin";
  ASSERT_EQ(ember_session_state_save_file(session_, path.c_str()), EMBER_OK) << ember_last_error();
  ember_session* other = NewSession();
  ASSERT_EQ(ember_session_state_load_file(other, path.c_str()), EMBER_OK) << ember_last_error();
  EXPECT_EQ(Logits(other), Logits(session_));
  EXPECT_EQ(ember_session_state_load_file(other, (path + ".missing").c_str()), EMBER_ERR_IO);
  EXPECT_NE(std::string(ember_last_error()).find(".missing"), std::string::npos);
  EXPECT_EQ(ember_session_state_save_file(session_, (path + "/not/a/dir").c_str()), EMBER_ERR_IO);
  std::remove(path.c_str());
  ember_session_free(other);
}

TEST_F(SessionStateApiTest, CloneIsIndependentAndOutlivesTheModelHandle) {
  ASSERT_EQ(ember_session_eval(session_, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  ember_session* clone = nullptr;
  ASSERT_EQ(ember_session_clone(session_, &clone), EMBER_OK) << ember_last_error();
  EXPECT_EQ(Tokens(clone), Tokens(session_));
  int32_t a = 0, b = 0;  // same sampler position: same token
  ASSERT_EQ(ember_session_sample(session_, &a), EMBER_OK);
  ASSERT_EQ(ember_session_sample(clone, &b), EMBER_OK);
  EXPECT_EQ(a, b);
  const int32_t extra = 300;
  ASSERT_EQ(ember_session_eval(clone, &extra, 1, nullptr, 0), EMBER_OK);
  EXPECT_EQ(ember_session_n_past(clone), ember_session_n_past(session_) + 1);
  // The clone holds its own model reference.
  ember_session_free(session_);
  session_ = nullptr;
  ember_model_free(model_);
  model_ = nullptr;
  ASSERT_EQ(ember_session_eval(clone, &extra, 1, nullptr, 0), EMBER_OK);
  ember_session_free(clone);
}

TEST_F(SessionStateApiTest, TruncateTokensAndEvalReuse) {
  size_t n = 99;
  EXPECT_EQ(ember_session_tokens(session_, nullptr, 0, &n), EMBER_OK);
  EXPECT_EQ(n, 0u);
  size_t reused = 99;
  ASSERT_EQ(ember_session_eval_reuse(session_, prompt_.data(), prompt_.size(), &reused), EMBER_OK);
  EXPECT_EQ(reused, 0u);
  EXPECT_EQ(Tokens(session_), prompt_);
  std::vector<int32_t> longer = prompt_;
  longer.push_back(500);
  longer.push_back(17);
  ASSERT_EQ(ember_session_eval_reuse(session_, longer.data(), longer.size(), &reused), EMBER_OK);
  EXPECT_EQ(reused, prompt_.size());
  EXPECT_EQ(Tokens(session_), longer);
  int32_t two[2];
  EXPECT_EQ(ember_session_tokens(session_, two, 2, &n), EMBER_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, longer.size());
  ASSERT_EQ(ember_session_eval_reuse(session_, longer.data(), longer.size(), nullptr), EMBER_OK);
  const int32_t bad = -3;
  EXPECT_EQ(ember_session_eval_reuse(session_, &bad, 1, &reused), EMBER_ERR_INVALID_TOKEN);
  EXPECT_EQ(Tokens(session_), longer);

  ASSERT_EQ(ember_session_truncate(session_, 100), EMBER_OK);
  EXPECT_EQ(Tokens(session_), longer);
  ASSERT_EQ(ember_session_truncate(session_, static_cast<int32_t>(prompt_.size())), EMBER_OK);
  EXPECT_EQ(Tokens(session_), prompt_);
  const float* logits = nullptr;
  EXPECT_EQ(ember_session_logits(session_, &logits, &n), EMBER_ERR_BAD_STATE);  // dropped with the tokens
  int32_t token = 0;
  EXPECT_EQ(ember_session_sample(session_, &token), EMBER_ERR_BAD_STATE);
  ASSERT_EQ(ember_session_eval_reuse(session_, prompt_.data(), prompt_.size(), &reused), EMBER_OK);
  EXPECT_EQ(reused, prompt_.size() - 1);  // the last token is evaluated again for its logits
  EXPECT_EQ(ember_session_sample(session_, &token), EMBER_OK);
}

}  // namespace
