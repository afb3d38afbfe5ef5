// The C API against a hostile or careless host: NULL for every pointer, token ids out of
// range, zero-length and huge sizes, invalid UTF-8, unknown flags, a full context. Every
// call must return its documented status with a message naming the problem, and a session
// must stay exactly usable after each failed call.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/api_expect.h"
#include "tests/support/test_support.h"

namespace {

using ::testing::HasSubstr;

class HostileApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = ember::testing::TestDataPath("models/stories260K.gguf");
    ASSERT_EQ(ember_model_load(path.c_str(), nullptr, &model_), EMBER_OK) << ember_last_error();
  }
  static void TearDownTestSuite() {
    ember_model_free(model_);
    model_ = nullptr;
  }

  // A single-threaded greedy session with context n_ctx.
  static ember_session* NewSession(int32_t n_ctx = 64) {
    ember_session_options* o = nullptr;
    EXPECT_EQ(ember_session_options_create(&o), EMBER_OK);
    EXPECT_EQ(ember_session_options_set_n_ctx(o, n_ctx), EMBER_OK);
    EXPECT_EQ(ember_session_options_set_n_threads(o, 1), EMBER_OK);
    ember_session* s = nullptr;
    EXPECT_EQ(ember_session_create(model_, o, &s), EMBER_OK) << ember_last_error();
    ember_session_options_free(o);
    return s;
  }

  static std::vector<float> Logits(const ember_session* s) {
    const float* l = nullptr;
    size_t n = 0;
    if (ember_session_logits(s, &l, &n) != EMBER_OK) return {};
    return std::vector<float>(l, l + n);
  }

  // The session holds `expected` tokens and its logits are those of a fresh session that
  // evaluated exactly them: whatever failed before left no trace. Then it keeps working.
  static void ExpectIntactAndUsable(ember_session* s, const std::vector<int32_t>& expected) {
    ASSERT_EQ(ember_session_n_past(s), static_cast<int32_t>(expected.size()));
    ember_session* fresh = NewSession(ember_session_n_ctx(s));
    if (!expected.empty()) {
      ASSERT_EQ(ember_session_eval(fresh, expected.data(), expected.size(), nullptr, 0), EMBER_OK);
      EXPECT_EQ(Logits(s), Logits(fresh));
    }
    ember_session_free(fresh);
    if (ember_session_n_past(s) < ember_session_n_ctx(s)) {
      const int32_t next = 400;
      EXPECT_EQ(ember_session_eval(s, &next, 1, nullptr, 0), EMBER_OK) << ember_last_error();
      int32_t sampled = -1;
      EXPECT_EQ(ember_session_sample(s, &sampled), EMBER_OK);
      EXPECT_GE(sampled, 0);
      EXPECT_LT(sampled, ember_model_n_vocab(model_));
    }
  }

  static ember_model* model_;
};

ember_model* HostileApiTest::model_ = nullptr;

const std::vector<int32_t> kPrompt = {1, 403, 261, 263, 400};

TEST_F(HostileApiTest, OutOfRangeTokenIdsAreRefusedAndLeaveNoTrace) {
  ember_session* s = NewSession();
  ASSERT_EQ(ember_session_eval(s, kPrompt.data(), kPrompt.size(), nullptr, 0), EMBER_OK);
  const int32_t n_vocab = ember_model_n_vocab(model_);
  for (int32_t bad : {-1, n_vocab, n_vocab + 1, std::numeric_limits<int32_t>::max(),
                      std::numeric_limits<int32_t>::min()}) {
    SCOPED_TRACE(bad);
    // The bad id last, after good ones: nothing of the batch may be kept.
    const std::vector<int32_t> batch = {5, 6, 7, bad};
    EXPECT_FAILS_WITH(ember_session_eval(s, batch.data(), batch.size(), nullptr, 0),
                      EMBER_ERR_INVALID_TOKEN, std::to_string(bad));
    std::vector<float> all(batch.size() * static_cast<size_t>(n_vocab));
    EXPECT_FAILS_WITH(ember_session_eval(s, batch.data(), batch.size(), all.data(), all.size()),
                      EMBER_ERR_INVALID_TOKEN, std::to_string(bad));
    char text[64];
    size_t len = 0;
    EXPECT_FAILS_WITH(ember_detokenize(model_, batch.data(), batch.size(), 0, text, sizeof text, &len),
                      EMBER_ERR_INVALID_TOKEN, std::to_string(bad));
    ExpectIntactAndUsable(s, kPrompt);
    ASSERT_EQ(ember_session_reset(s), EMBER_OK);
    ASSERT_EQ(ember_session_eval(s, kPrompt.data(), kPrompt.size(), nullptr, 0), EMBER_OK);
  }
  ember_session_free(s);
}

TEST_F(HostileApiTest, NullPointersOnEveryFunction) {
  ember_model_options* mo = nullptr;
  ember_sampler_options* so = nullptr;
  ember_session_options* o = nullptr;
  ASSERT_EQ(ember_model_options_create(&mo), EMBER_OK);
  ASSERT_EQ(ember_sampler_options_create(&so), EMBER_OK);
  ASSERT_EQ(ember_session_options_create(&o), EMBER_OK);

  // Option objects.
  EXPECT_FAILS_WITH(ember_model_options_create(nullptr), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_create(nullptr), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_FAILS_WITH(ember_session_options_create(nullptr), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_FAILS_WITH(ember_model_options_set_log_callback(nullptr, nullptr, nullptr, EMBER_LOG_INFO),
                    EMBER_ERR_INVALID_ARGUMENT, "options is NULL");
  EXPECT_FAILS_WITH(ember_model_options_set_weight_format(nullptr, EMBER_WEIGHTS_AS_STORED),
                    EMBER_ERR_INVALID_ARGUMENT, "options is NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_temperature(nullptr, 0.5f), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_top_k(nullptr, 5), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_top_p(nullptr, 0.5f), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_min_p(nullptr, 0.5f), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_repeat_penalty(nullptr, 1.1f, 8), EMBER_ERR_INVALID_ARGUMENT,
                    "NULL");
  EXPECT_FAILS_WITH(ember_sampler_options_set_seed(nullptr, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_session_options_set_n_ctx(nullptr, 8), EMBER_ERR_INVALID_ARGUMENT, "options is NULL");
  EXPECT_FAILS_WITH(ember_session_options_set_n_threads(nullptr, 1), EMBER_ERR_INVALID_ARGUMENT,
                    "options is NULL");
  EXPECT_FAILS_WITH(ember_session_options_set_max_kv_bytes(nullptr, 1), EMBER_ERR_INVALID_ARGUMENT,
                    "options is NULL");
  EXPECT_FAILS_WITH(ember_session_options_set_context_shift(nullptr, 1, 0), EMBER_ERR_INVALID_ARGUMENT,
                    "options is NULL");
  EXPECT_FAILS_WITH(ember_session_options_set_batch_invariant(nullptr, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_session_options_set_sampler(nullptr, so), EMBER_ERR_INVALID_ARGUMENT, "options is NULL");
  EXPECT_FAILS_WITH(ember_session_options_set_sampler(o, nullptr), EMBER_ERR_INVALID_ARGUMENT, "sampler is NULL");

  // Models.
  const std::string path = ember::testing::TestDataPath("models/stories260K.gguf");
  ember_model* m = reinterpret_cast<ember_model*>(0x1);
  EXPECT_FAILS_WITH(ember_model_load(nullptr, mo, &m), EMBER_ERR_INVALID_ARGUMENT, "path is NULL");
  EXPECT_EQ(m, nullptr);
  EXPECT_FAILS_WITH(ember_model_load(path.c_str(), mo, nullptr), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_EQ(ember_model_n_vocab(nullptr), 0);
  EXPECT_EQ(ember_model_n_tokens(nullptr), 0);
  EXPECT_EQ(ember_model_n_ctx_train(nullptr), 0);
  EXPECT_EQ(ember_model_adds_bos(nullptr), 0);
  EXPECT_STREQ(ember_model_architecture(nullptr), "");
  // No valid token id for a NULL model (0 would be one).
  EXPECT_LT(ember_model_token_bos(nullptr), 0);
  EXPECT_LT(ember_model_token_eos(nullptr), 0);

  // Tokenizer.
  int32_t ids[8];
  size_t n = 0;
  char text[32];
  EXPECT_FAILS_WITH(ember_tokenize(nullptr, "a", 1, 0, ids, 8, &n), EMBER_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS_WITH(ember_tokenize(model_, nullptr, 1, 0, ids, 8, &n), EMBER_ERR_INVALID_ARGUMENT, "text is NULL");
  EXPECT_FAILS_WITH(ember_tokenize(model_, "a", 1, 0, nullptr, 8, &n), EMBER_ERR_INVALID_ARGUMENT,
                    "tokens is NULL");
  EXPECT_FAILS_WITH(ember_tokenize(model_, "a", 1, 0, ids, 8, nullptr), EMBER_ERR_INVALID_ARGUMENT,
                    "n_tokens is NULL");
  EXPECT_FAILS_WITH(ember_detokenize(nullptr, ids, 1, 0, text, 32, &n), EMBER_ERR_INVALID_ARGUMENT,
                    "model is NULL");
  EXPECT_FAILS_WITH(ember_detokenize(model_, nullptr, 1, 0, text, 32, &n), EMBER_ERR_INVALID_ARGUMENT,
                    "tokens is NULL");
  ids[0] = 400;
  EXPECT_FAILS_WITH(ember_detokenize(model_, ids, 1, 0, nullptr, 32, &n), EMBER_ERR_INVALID_ARGUMENT,
                    "text is NULL");
  EXPECT_FAILS_WITH(ember_detokenize(model_, ids, 1, 0, text, 32, nullptr), EMBER_ERR_INVALID_ARGUMENT,
                    "text_len is NULL");
  // NULL with a zero length is an empty input, not an error.
  EXPECT_EQ(ember_tokenize(model_, nullptr, 0, EMBER_TOKENIZE_NO_BOS, nullptr, 0, &n), EMBER_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(ember_detokenize(model_, nullptr, 0, 0, nullptr, 0, &n), EMBER_OK);
  EXPECT_EQ(n, 0u);

  // Sessions.
  ember_session* s = reinterpret_cast<ember_session*>(0x1);
  EXPECT_FAILS_WITH(ember_session_create(nullptr, o, &s), EMBER_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_EQ(s, nullptr);
  EXPECT_FAILS_WITH(ember_session_create(model_, o, nullptr), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_FAILS_WITH(ember_session_reset(nullptr), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_EQ(ember_session_n_past(nullptr), 0);
  EXPECT_EQ(ember_session_n_ctx(nullptr), 0);
  EXPECT_EQ(ember_session_kv_bytes(nullptr), 0u);
  const float* logits = nullptr;
  int32_t token = 0;
  EXPECT_FAILS_WITH(ember_session_eval(nullptr, ids, 1, nullptr, 0), EMBER_ERR_INVALID_ARGUMENT,
                    "session is NULL");
  EXPECT_FAILS_WITH(ember_session_logits(nullptr, &logits, &n), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS_WITH(ember_session_sample(nullptr, &token), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS_WITH(ember_session_generate(nullptr, "a", 1, 0, 4, 0, nullptr, nullptr, nullptr),
                    EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS_WITH(ember_session_cancel(nullptr), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");

  s = NewSession();
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(ember_session_eval(s, kPrompt.data(), kPrompt.size(), nullptr, 0), EMBER_OK);
  EXPECT_FAILS_WITH(ember_session_eval(s, nullptr, 3, nullptr, 0), EMBER_ERR_INVALID_ARGUMENT, "tokens is NULL");
  EXPECT_FAILS_WITH(ember_session_logits(s, nullptr, &n), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_session_logits(s, &logits, nullptr), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_session_sample(s, nullptr), EMBER_ERR_INVALID_ARGUMENT, "token is NULL");
  EXPECT_FAILS_WITH(ember_session_generate(s, nullptr, 5, 0, 4, 0, nullptr, nullptr, nullptr),
                    EMBER_ERR_INVALID_ARGUMENT, "prompt is NULL");
  ExpectIntactAndUsable(s, kPrompt);
  // A NULL callback and NULL n_generated are allowed.
  EXPECT_EQ(ember_session_generate(s, nullptr, 0, 0, 3, EMBER_GENERATE_IGNORE_EOS, nullptr, nullptr, nullptr),
            EMBER_OK)
      << ember_last_error();
  EXPECT_EQ(ember_session_n_past(s), static_cast<int32_t>(kPrompt.size()) + 1 + 3);
  ember_session_free(s);

  // Every free accepts NULL.
  ember_model_free(nullptr);
  ember_session_free(nullptr);
  ember_model_options_free(nullptr);
  ember_sampler_options_free(nullptr);
  ember_session_options_free(nullptr);
  ember_model_options_free(mo);
  ember_sampler_options_free(so);
  ember_session_options_free(o);
}

TEST_F(HostileApiTest, ZeroLengthBuffers) {
  size_t n = 12345;
  // Capacity 0 with a NULL buffer is the size query.
  EXPECT_FAILS_WITH(ember_tokenize(model_, "Once upon a time", 16, 0, nullptr, 0, &n),
                    EMBER_ERR_BUFFER_TOO_SMALL, "capacity 0");
  EXPECT_EQ(n, 5u);
  int32_t ids[5];
  EXPECT_FAILS_WITH(ember_tokenize(model_, "Once upon a time", 16, 0, ids, 0, &n), EMBER_ERR_BUFFER_TOO_SMALL,
                    "5 tokens needed");
  // Empty text: only BOS if asked for.
  EXPECT_EQ(ember_tokenize(model_, "", 0, EMBER_TOKENIZE_NO_BOS, nullptr, 0, &n), EMBER_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(ember_tokenize(model_, "", 0, EMBER_TOKENIZE_ADD_BOS, ids, 5, &n), EMBER_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(ids[0], ember_model_token_bos(model_));

  size_t len = 99;
  EXPECT_FAILS_WITH(ember_detokenize(model_, kPrompt.data(), kPrompt.size(), 0, nullptr, 0, &len),
                    EMBER_ERR_BUFFER_TOO_SMALL, "capacity 0");
  EXPECT_GT(len, 0u);
  EXPECT_EQ(ember_detokenize(model_, kPrompt.data(), 0, 0, nullptr, 0, &len), EMBER_OK);
  EXPECT_EQ(len, 0u);

  ember_session* s = NewSession();
  // Nothing evaluated: no logits to read or sample from.
  const float* logits = nullptr;
  int32_t token = -1;
  EXPECT_FAILS_WITH(ember_session_logits(s, &logits, &n), EMBER_ERR_BAD_STATE, "nothing");
  EXPECT_FAILS_WITH(ember_session_sample(s, &token), EMBER_ERR_BAD_STATE, "nothing");
  EXPECT_EQ(ember_session_eval(s, kPrompt.data(), 0, nullptr, 0), EMBER_OK);  // a no-op
  EXPECT_EQ(ember_session_eval(s, nullptr, 0, nullptr, 0), EMBER_OK);
  EXPECT_EQ(ember_session_n_past(s), 0);
  EXPECT_FAILS_WITH(ember_session_logits(s, &logits, &n), EMBER_ERR_BAD_STATE, "nothing");
  // An empty prompt on an empty session has nothing to continue from.
  EXPECT_FAILS_WITH(ember_session_generate(s, "", 0, EMBER_TOKENIZE_NO_BOS, 4, 0, nullptr, nullptr, nullptr),
                    EMBER_ERR_INVALID_ARGUMENT, "empty prompt");
  EXPECT_EQ(ember_session_n_past(s), 0);

  ASSERT_EQ(ember_session_eval(s, kPrompt.data(), kPrompt.size(), nullptr, 0), EMBER_OK);
  // all_logits given with room for nothing: the message names the floats needed.
  float one = 0.0f;
  const int32_t n_past = ember_session_n_past(s);
  EXPECT_FAILS_WITH(ember_session_eval(s, kPrompt.data(), 1, &one, 0), EMBER_ERR_BUFFER_TOO_SMALL,
                    "1 x " + std::to_string(ember_model_n_vocab(model_)) + " needed");
  EXPECT_EQ(ember_session_n_past(s), n_past);
  // max_tokens 0 evaluates the prompt and generates nothing.
  int32_t generated = -1;
  EXPECT_EQ(ember_session_generate(s, " the", 4, 0, 0, 0, nullptr, nullptr, &generated), EMBER_OK);
  EXPECT_EQ(generated, 0);
  // An empty prompt on a non-empty session continues from its logits.
  EXPECT_EQ(ember_session_generate(s, "", 0, 0, 2, EMBER_GENERATE_IGNORE_EOS, nullptr, nullptr, &generated),
            EMBER_OK);
  EXPECT_EQ(generated, 2);
  ember_session_free(s);
}

TEST_F(HostileApiTest, HugeSizesAndOutOfRangeValues) {
  ember_session* s = NewSession();
  ASSERT_EQ(ember_session_eval(s, kPrompt.data(), kPrompt.size(), nullptr, 0), EMBER_OK);
  // Sizes no buffer can have are refused before anything is read.
  const int32_t one = 400;
  EXPECT_FAILS_WITH(ember_session_eval(s, &one, SIZE_MAX, nullptr, 0), EMBER_ERR_INVALID_ARGUMENT,
                    "n_tokens too large");
  EXPECT_FAILS_WITH(ember_session_eval(s, &one, size_t{1} << 31, nullptr, 0), EMBER_ERR_INVALID_ARGUMENT,
                    "n_tokens too large");
  // A capacity larger than needed is fine: only what is needed is written.
  int32_t ids[8];
  size_t n = 0;
  EXPECT_EQ(ember_tokenize(model_, "Once", 4, 0, ids, SIZE_MAX, &n), EMBER_OK);
  EXPECT_EQ(n, 2u);
  std::vector<float> all(ember_model_n_vocab(model_));
  EXPECT_EQ(ember_session_eval(s, &one, 1, all.data(), all.size()), EMBER_OK);
  ExpectIntactAndUsable(s, {1, 403, 261, 263, 400, 400});

  // Unknown flags.
  EXPECT_FAILS_WITH(ember_tokenize(model_, "a", 1, 8, ids, 8, &n), EMBER_ERR_INVALID_ARGUMENT, "flags");
  EXPECT_FAILS_WITH(ember_tokenize(model_, "a", 1, 0x80000000u, ids, 8, &n), EMBER_ERR_INVALID_ARGUMENT, "flags");
  char text[16];
  EXPECT_FAILS_WITH(ember_detokenize(model_, ids, 1, 2, text, 16, &n), EMBER_ERR_INVALID_ARGUMENT, "flags");
  EXPECT_FAILS_WITH(ember_session_generate(s, "a", 1, 0, 4, 2, nullptr, nullptr, nullptr),
                    EMBER_ERR_INVALID_ARGUMENT, "flags");
  EXPECT_FAILS_WITH(ember_session_generate(s, "a", 1, 64, 4, 0, nullptr, nullptr, nullptr),
                    EMBER_ERR_INVALID_ARGUMENT, "flags");
  EXPECT_FAILS_WITH(ember_session_generate(s, "a", 1, EMBER_TOKENIZE_ADD_BOS | EMBER_TOKENIZE_NO_BOS, 4, 0,
                                           nullptr, nullptr, nullptr),
                    EMBER_ERR_INVALID_ARGUMENT, "ADD_BOS");
  EXPECT_FAILS_WITH(ember_session_generate(s, "a", 1, 0, -1, 0, nullptr, nullptr, nullptr),
                    EMBER_ERR_INVALID_ARGUMENT, "max_tokens");
  ExpectIntactAndUsable(s, {1, 403, 261, 263, 400, 400, 400});
  ember_session_free(s);

  // Option values at and past their limits.
  ember_session_options* o = nullptr;
  ASSERT_EQ(ember_session_options_create(&o), EMBER_OK);
  for (int32_t bad : {0, -1, (1 << 24) + 1, std::numeric_limits<int32_t>::max(),
                      std::numeric_limits<int32_t>::min()}) {
    EXPECT_FAILS_WITH(ember_session_options_set_n_ctx(o, bad), EMBER_ERR_INVALID_ARGUMENT, std::to_string(bad));
  }
  for (int32_t bad : {0, -1, 257, std::numeric_limits<int32_t>::max()}) {
    EXPECT_FAILS_WITH(ember_session_options_set_n_threads(o, bad), EMBER_ERR_INVALID_ARGUMENT,
                      std::to_string(bad));
  }
  EXPECT_FAILS_WITH(ember_session_options_set_context_shift(o, 1, -1), EMBER_ERR_INVALID_ARGUMENT, "n_keep");
  EXPECT_EQ(ember_session_options_set_max_kv_bytes(o, UINT64_MAX), EMBER_OK);
  // n_keep must be below n_ctx: refused when the session is created.
  ASSERT_EQ(ember_session_options_set_n_ctx(o, 16), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_context_shift(o, 1, 16), EMBER_OK);
  ember_session* bad_session = reinterpret_cast<ember_session*>(0x1);
  EXPECT_FAILS_WITH(ember_session_create(model_, o, &bad_session), EMBER_ERR_INVALID_ARGUMENT, "n_keep");
  EXPECT_EQ(bad_session, nullptr);
  ember_session_options_free(o);

  ember_sampler_options* so = nullptr;
  ASSERT_EQ(ember_sampler_options_create(&so), EMBER_OK);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (float t : {-1.0f, nan, inf, -inf}) {
    EXPECT_FAILS_WITH(ember_sampler_options_set_temperature(so, t), EMBER_ERR_INVALID_ARGUMENT, "temperature");
  }
  for (float p : {-0.1f, 1.01f, nan, inf}) {
    EXPECT_FAILS_WITH(ember_sampler_options_set_top_p(so, p), EMBER_ERR_INVALID_ARGUMENT, "top_p");
    EXPECT_FAILS_WITH(ember_sampler_options_set_min_p(so, p), EMBER_ERR_INVALID_ARGUMENT, "min_p");
  }
  EXPECT_FAILS_WITH(ember_sampler_options_set_top_k(so, -1), EMBER_ERR_INVALID_ARGUMENT, "top_k");
  for (float penalty : {0.0f, -1.0f, nan, inf}) {
    EXPECT_FAILS_WITH(ember_sampler_options_set_repeat_penalty(so, penalty, 8), EMBER_ERR_INVALID_ARGUMENT,
                      "repeat_penalty");
  }
  EXPECT_FAILS_WITH(ember_sampler_options_set_repeat_penalty(so, 1.1f, -1), EMBER_ERR_INVALID_ARGUMENT,
                    "repeat_last_n");
  // Extreme but valid values sample without trouble.
  EXPECT_EQ(ember_sampler_options_set_temperature(so, FLT_MAX), EMBER_OK);
  EXPECT_EQ(ember_sampler_options_set_top_k(so, std::numeric_limits<int32_t>::max()), EMBER_OK);
  EXPECT_EQ(ember_sampler_options_set_top_p(so, 0.0f), EMBER_OK);
  EXPECT_EQ(ember_sampler_options_set_min_p(so, 1.0f), EMBER_OK);
  EXPECT_EQ(ember_sampler_options_set_repeat_penalty(so, FLT_MAX, std::numeric_limits<int32_t>::max()),
            EMBER_OK);
  EXPECT_EQ(ember_sampler_options_set_seed(so, UINT64_MAX), EMBER_OK);
  ASSERT_EQ(ember_session_options_create(&o), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_sampler(o, so), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_n_threads(o, 1), EMBER_OK);
  ASSERT_EQ(ember_session_create(model_, o, &s), EMBER_OK);
  int32_t generated = 0;
  EXPECT_EQ(ember_session_generate(s, "Once", 4, 0, 8, EMBER_GENERATE_IGNORE_EOS, nullptr, nullptr, &generated),
            EMBER_OK)
      << ember_last_error();
  EXPECT_EQ(generated, 8);
  ember_session_free(s);
  ember_session_options_free(o);
  ember_sampler_options_free(so);

  // Logging levels out of range: refused per model and globally alike.
  ember_model_options* mo = nullptr;
  ASSERT_EQ(ember_model_options_create(&mo), EMBER_OK);
  EXPECT_FAILS_WITH(ember_model_options_set_log_callback(mo, nullptr, nullptr, 7), EMBER_ERR_INVALID_ARGUMENT,
                    "min_level");
  EXPECT_FAILS_WITH(ember_model_options_set_weight_format(mo, -1), EMBER_ERR_INVALID_ARGUMENT, "-1");
  ember_model_options_free(mo);
  ember_set_log_callback(nullptr, nullptr, -100);
  EXPECT_THAT(std::string(ember_last_error()), HasSubstr("ember_set_log_callback: min_level"));
  ember_set_log_callback(nullptr, nullptr, 100);
  EXPECT_THAT(std::string(ember_last_error()), HasSubstr("ember_set_log_callback: min_level"));
  EXPECT_STREQ(ember_status_name(-1), "EMBER_ERR_UNKNOWN");
}

TEST_F(HostileApiTest, InvalidUtf8PromptsAreRefused) {
  const std::vector<std::string> bad = {
      "\xff",                      // never valid
      "abc\x80",                   // lone continuation byte
      "\xc3",                      // truncated 2-byte sequence
      "\xe2\x96",                  // truncated 3-byte sequence
      "\xf0\x9f\x98",              // truncated 4-byte sequence
      "\xc0\x80",                  // overlong NUL
      "\xe0\x80\xaf",              // overlong '/'
      "\xed\xa0\x80",              // UTF-16 surrogate
      "\xf4\x90\x80\x80",          // past U+10FFFF
      "Once upon \xfe a time",     // bad byte in the middle
  };
  ember_session* s = NewSession();
  ASSERT_EQ(ember_session_eval(s, kPrompt.data(), kPrompt.size(), nullptr, 0), EMBER_OK);
  for (const std::string& text : bad) {
    SCOPED_TRACE(::testing::PrintToString(text));
    int32_t ids[32];
    size_t n = 0;
    EXPECT_EQ(ember_tokenize(model_, text.data(), text.size(), 0, ids, 32, &n), EMBER_ERR_INVALID_UTF8);
    EXPECT_FALSE(std::string(ember_last_error()).empty());
    EXPECT_EQ(ember_tokenize(model_, text.data(), text.size(), EMBER_TOKENIZE_PARSE_SPECIAL, ids, 32, &n),
              EMBER_ERR_INVALID_UTF8);
    int32_t generated = -1;
    EXPECT_EQ(ember_session_generate(s, text.data(), text.size(), 0, 4, 0, nullptr, nullptr, &generated),
              EMBER_ERR_INVALID_UTF8);
    EXPECT_EQ(generated, 0);
    ExpectIntactAndUsable(s, kPrompt);
    ASSERT_EQ(ember_session_reset(s), EMBER_OK);
    ASSERT_EQ(ember_session_eval(s, kPrompt.data(), kPrompt.size(), nullptr, 0), EMBER_OK);
  }
  // Valid UTF-8 with an embedded NUL and the largest code point is accepted.
  const std::string odd("a\0b\xf4\x8f\xbf\xbf", 7);
  size_t n = 0;
  EXPECT_EQ(ember_tokenize(model_, odd.data(), odd.size(), 0, nullptr, 0, &n), EMBER_ERR_BUFFER_TOO_SMALL);
  EXPECT_GT(n, 0u);
  ember_session_free(s);
}

TEST_F(HostileApiTest, FullContextIsAnErrorThatKeepsTheSession) {
  constexpr int32_t kCtx = 8;
  ember_session* s = NewSession(kCtx);
  std::vector<int32_t> full = {1, 403, 261, 263, 400, 5, 6, 7};
  ASSERT_EQ(ember_session_eval(s, full.data(), full.size(), nullptr, 0), EMBER_OK);
  ASSERT_EQ(ember_session_n_past(s), kCtx);
  const int32_t more = 9;
  EXPECT_FAILS_WITH(ember_session_eval(s, &more, 1, nullptr, 0), EMBER_ERR_CONTEXT_FULL, "n_ctx 8");
  int32_t generated = -1;
  EXPECT_FAILS_WITH(ember_session_generate(s, "", 0, 0, 4, EMBER_GENERATE_IGNORE_EOS, nullptr, nullptr, &generated),
                    EMBER_ERR_CONTEXT_FULL, "n_ctx 8");
  EXPECT_EQ(generated, 0);
  EXPECT_FAILS_WITH(ember_session_generate(s, " more", 5, 0, 4, 0, nullptr, nullptr, &generated),
                    EMBER_ERR_CONTEXT_FULL, "n_ctx 8");
  ExpectIntactAndUsable(s, full);
  // A prompt longer than the whole context, on an empty session.
  ASSERT_EQ(ember_session_reset(s), EMBER_OK);
  std::vector<int32_t> too_long(kCtx + 1, 400);
  EXPECT_FAILS_WITH(ember_session_eval(s, too_long.data(), too_long.size(), nullptr, 0), EMBER_ERR_CONTEXT_FULL,
                    "n_ctx 8");
  EXPECT_EQ(ember_session_n_past(s), 0);
  // Generation that runs into the end keeps what it generated.
  EXPECT_FAILS_WITH(ember_session_generate(s, "Once", 4, 0, 100, EMBER_GENERATE_IGNORE_EOS, nullptr, nullptr,
                                           &generated),
                    EMBER_ERR_CONTEXT_FULL, "n_ctx 8");
  EXPECT_EQ(ember_session_n_past(s), kCtx);
  EXPECT_EQ(generated, kCtx - 2);  // BOS + "Once" fill two positions
  ASSERT_EQ(ember_session_reset(s), EMBER_OK);
  ExpectIntactAndUsable(s, {});
  ember_session_free(s);
}

TEST_F(HostileApiTest, CallbacksMayCallBackIntoTheApi) {
  ember_session* s = NewSession();
  struct State {
    ember_session* s;
    int calls = 0;
  } state{s};
  auto cb = [](void* user, int32_t token, const char*, size_t) -> int32_t {
    auto* st = static_cast<State*>(user);
    ++st->calls;
    // Reading state and failing a call from inside the callback is allowed.
    const float* l = nullptr;
    size_t n = 0;
    if (ember_session_logits(st->s, &l, &n) != EMBER_OK || n == 0) return 1;
    if (ember_tokenize(nullptr, "x", 1, 0, nullptr, 0, &n) != EMBER_ERR_INVALID_ARGUMENT) return 1;
    return st->calls >= 3;
  };
  int32_t generated = 0;
  EXPECT_EQ(ember_session_generate(s, "Once", 4, 0, 10, EMBER_GENERATE_IGNORE_EOS, cb, &state, &generated),
            EMBER_OK);
  EXPECT_EQ(state.calls, 3);
  EXPECT_EQ(generated, 3);
  ember_session_free(s);
}

TEST_F(HostileApiTest, LastErrorIsPerThread) {
  EXPECT_EQ(ember_session_reset(nullptr), EMBER_ERR_INVALID_ARGUMENT);
  const std::string mine = ember_last_error();
  std::thread other([] {
    EXPECT_STREQ(ember_last_error(), "");  // nothing failed on this thread yet
    size_t n = 0;
    EXPECT_EQ(ember_tokenize(model_, "\xff", 1, 0, nullptr, 0, &n), EMBER_ERR_INVALID_UTF8);
  });
  other.join();
  EXPECT_EQ(std::string(ember_last_error()), mine);
}

}  // namespace
