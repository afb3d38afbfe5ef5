// ember_session_generate_ex and its options through the C API: stop strings across
// tokens, stop tokens, stop reasons, the end-of-generation set, and argument errors.
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/api_expect.h"
#include "tests/support/test_support.h"

namespace {

using ::testing::HasSubstr;

constexpr char kPrompt[] = "Once upon a time";

struct Collected {
  std::vector<int32_t> ids;
  std::vector<std::string> texts;
  std::string text;
};

int32_t Collect(void* user, int32_t token, const char* text, size_t len) {
  auto* c = static_cast<Collected*>(user);
  c->ids.push_back(token);
  c->texts.emplace_back(text, len);
  c->text.append(text, len);
  return 0;
}

class GenerateExTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ember_model_load(ember::testing::TestDataPath("models/stories260K.gguf").c_str(), nullptr, &model_),
              EMBER_OK)
        << ember_last_error();
    ASSERT_EQ(ember_generate_options_create(&options_), EMBER_OK);
  }
  void TearDown() override {
    ember_generate_options_free(options_);
    ember_model_free(model_);
  }
  ember_session* NewSession() {
    ember_session* s = nullptr;
    EXPECT_EQ(ember_session_create(model_, nullptr, &s), EMBER_OK);
    return s;
  }

  ember_model* model_ = nullptr;
  ember_generate_options* options_ = nullptr;
};

// Prompt lookup through the C API: the same ids and text as plain decoding (lib/runtime's
// speculation_test checks this thoroughly), with drafts confirmed on a story that repeats
// its prompt, and counts that reset with the next call.
TEST_F(GenerateExTest, LookupGivesPlainDecodingsTokensAndCountsDrafts) {
  static const char kStory[] =
      "Once upon a time there was a little girl. She liked to play with her ball. Once upon a time there was "
      "a little girl. She liked to";
  ember_session* plain = NewSession();
  ember_session* fast = NewSession();
  Collected cp, cf;
  int32_t np = 0, nf = 0, rp = -1, rf = -1;
  ASSERT_EQ(ember_generate_options_set_max_tokens(options_, 48), EMBER_OK);
  ASSERT_EQ(ember_session_generate_ex(plain, kStory, sizeof(kStory) - 1, 0, options_, Collect, &cp, &np, &rp),
            EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_lookup(options_, 5), EMBER_OK);
  ASSERT_EQ(ember_session_generate_ex(fast, kStory, sizeof(kStory) - 1, 0, options_, Collect, &cf, &nf, &rf),
            EMBER_OK)
      << ember_last_error();
  EXPECT_EQ(cp.ids, cf.ids);
  EXPECT_EQ(cp.texts, cf.texts);
  EXPECT_EQ(np, nf);
  EXPECT_EQ(rp, rf);
  int32_t drafted = -1, accepted = -1;
  ASSERT_EQ(ember_session_speculation_stats(fast, &drafted, &accepted), EMBER_OK);
  EXPECT_GT(accepted, 0);
  EXPECT_GE(drafted, accepted);
  ASSERT_EQ(ember_session_speculation_stats(plain, &drafted, &accepted), EMBER_OK);
  EXPECT_EQ(drafted, 0);
  EXPECT_EQ(accepted, 0);
  // A draft model (a second session on the same model) through the C API: plain output.
  ember_session* draft = NewSession();
  ember_session* drafted_session = NewSession();
  Collected cd;
  int32_t nd = 0, rd = -1;
  ASSERT_EQ(ember_generate_options_set_lookup(options_, 0), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_draft(options_, draft, 4), EMBER_OK);
  ASSERT_EQ(ember_session_generate_ex(drafted_session, kStory, sizeof(kStory) - 1, 0, options_, Collect, &cd, &nd, &rd),
            EMBER_OK)
      << ember_last_error();
  EXPECT_EQ(cp.ids, cd.ids);
  EXPECT_EQ(cp.texts, cd.texts);
  ASSERT_EQ(ember_session_speculation_stats(drafted_session, &drafted, &accepted), EMBER_OK);
  EXPECT_GT(accepted, 0);
  ASSERT_EQ(ember_generate_options_set_draft(options_, nullptr, 0), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_lookup(options_, 5), EMBER_OK);
  ember_session_free(draft);
  ember_session_free(drafted_session);
  // A stepped generator refuses lookup rather than ignore it.
  ember_generator* g = nullptr;
  EXPECT_FAILS_WITH(ember_generator_create(fast, options_, nullptr, nullptr, &g), EMBER_ERR_INVALID_ARGUMENT,
                    "lookup");
  EXPECT_EQ(g, nullptr);
  ember_session_free(plain);
  ember_session_free(fast);
}

TEST_F(GenerateExTest, MatchesGenerateWithoutStopStrings) {
  ember_session* a = NewSession();
  ember_session* b = NewSession();
  Collected ca, cb;
  int32_t na = 0, nb = 0, reason = -1;
  ASSERT_EQ(ember_session_generate(a, kPrompt, sizeof(kPrompt) - 1, 0, 40, EMBER_GENERATE_IGNORE_EOS, Collect, &ca,
                                   &na),
            EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_max_tokens(options_, 40), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_ignore_eos(options_, 1), EMBER_OK);
  ASSERT_EQ(ember_session_generate_ex(b, kPrompt, sizeof(kPrompt) - 1, 0, options_, Collect, &cb, &nb, &reason),
            EMBER_OK)
      << ember_last_error();
  EXPECT_EQ(ca.ids, cb.ids);
  EXPECT_EQ(ca.texts, cb.texts);
  EXPECT_EQ(na, nb);
  EXPECT_EQ(reason, EMBER_STOP_MAX_TOKENS);
  EXPECT_EQ(ember_session_n_past(a), ember_session_n_past(b));
  ember_session_free(a);
  ember_session_free(b);
}

TEST_F(GenerateExTest, StopStringSplitAcrossTokensNeverReachesTheCallback) {
  ember_session* ref_session = NewSession();
  Collected ref;
  ASSERT_EQ(ember_session_generate(ref_session, kPrompt, sizeof(kPrompt) - 1, 0, 40, EMBER_GENERATE_IGNORE_EOS,
                                   Collect, &ref, nullptr),
            EMBER_OK);
  const int32_t n_prompt = ember_session_n_past(ref_session) - 40;
  ember_session_free(ref_session);
  // Last byte of token k + first byte of token k+1, first occurring there.
  size_t offset = 0, k = 0, pos = std::string::npos;
  std::string stop;
  for (; k + 1 < ref.texts.size(); offset += ref.texts[k].size(), ++k) {
    if (k < 2 || ref.texts[k].size() < 2 || ref.texts[k + 1].empty()) continue;
    stop = ref.texts[k].substr(ref.texts[k].size() - 1) + ref.texts[k + 1].substr(0, 1);
    pos = offset + ref.texts[k].size() - 1;
    if (ref.text.find(stop) == pos) break;
  }
  ASSERT_LT(k + 1, ref.texts.size()) << ref.text;

  const char* stops[] = {"\xe2\x9c\x93 not in the story", stop.c_str()};
  ASSERT_EQ(ember_generate_options_set_stop_strings(options_, stops, 2), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_ignore_eos(options_, 1), EMBER_OK);
  ember_session* s = NewSession();
  Collected got;
  int32_t n = -1, reason = -1;
  ASSERT_EQ(ember_session_generate_ex(s, kPrompt, sizeof(kPrompt) - 1, 0, options_, Collect, &got, &n, &reason),
            EMBER_OK)
      << ember_last_error();
  EXPECT_EQ(reason, EMBER_STOP_STRING);
  EXPECT_EQ(got.text, ref.text.substr(0, pos)) << "stop \"" << stop << "\"";
  EXPECT_EQ(got.text.find(stop), std::string::npos);
  // Token k held the stop string's first byte: its other bytes came with token -1 and it
  // is not in the session, which ends right after token k-1.
  ASSERT_FALSE(got.ids.empty());
  EXPECT_EQ(got.ids.back(), -1);
  EXPECT_EQ(n, static_cast<int32_t>(k));
  EXPECT_EQ(ember_session_n_past(s), n_prompt + n);
  // Continuing regenerates token k.
  Collected more;
  ASSERT_EQ(ember_session_generate(s, "", 0, 0, 1, EMBER_GENERATE_IGNORE_EOS, Collect, &more, nullptr), EMBER_OK);
  ASSERT_EQ(more.ids.size(), 1u);
  EXPECT_EQ(more.ids[0], ref.ids[k]);
  ember_session_free(s);
}

TEST_F(GenerateExTest, StopTokenAndStopReasons) {
  ember_session* ref_session = NewSession();
  Collected ref;
  ASSERT_EQ(ember_session_generate(ref_session, kPrompt, sizeof(kPrompt) - 1, 0, 20, EMBER_GENERATE_IGNORE_EOS,
                                   Collect, &ref, nullptr),
            EMBER_OK);
  ember_session_free(ref_session);
  const int32_t stop_ids[] = {ref.ids[0]};
  ASSERT_EQ(ember_generate_options_set_stop_tokens(options_, stop_ids, 1), EMBER_OK);
  ember_session* s = NewSession();
  int32_t n = -1, reason = -1;
  ASSERT_EQ(ember_session_generate_ex(s, kPrompt, sizeof(kPrompt) - 1, 0, options_, nullptr, nullptr, &n, &reason),
            EMBER_OK);
  EXPECT_EQ(reason, EMBER_STOP_TOKEN);
  EXPECT_EQ(n, 0);
  // n = 0 removes them again; max_tokens 0 evaluates the prompt only.
  ASSERT_EQ(ember_generate_options_set_stop_tokens(options_, nullptr, 0), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_max_tokens(options_, 0), EMBER_OK);
  ASSERT_EQ(ember_session_generate_ex(s, " The", 4, 0, options_, nullptr, nullptr, &n, &reason), EMBER_OK);
  EXPECT_EQ(reason, EMBER_STOP_MAX_TOKENS);
  EXPECT_EQ(n, 0);
  ember_session_free(s);
}

TEST_F(GenerateExTest, EndOfGenerationSet) {
  const int32_t eos = ember_model_token_eos(model_);
  ASSERT_GE(eos, 0);
  EXPECT_EQ(ember_model_token_is_eog(model_, eos), 1);
  EXPECT_EQ(ember_model_token_is_eog(model_, eos + 1), 0);
  EXPECT_EQ(ember_model_token_is_eog(model_, -1), 0);
  EXPECT_EQ(ember_model_token_is_eog(model_, 1 << 30), 0);
  EXPECT_EQ(ember_model_token_is_eog(nullptr, eos), 0);
}

TEST_F(GenerateExTest, BadArguments) {
  int32_t n = 7, reason = 7;
  EXPECT_FAILS_WITH(ember_session_generate_ex(nullptr, "a", 1, 0, options_, nullptr, nullptr, &n, &reason),
                    EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_EQ(n, 0);
  EXPECT_EQ(reason, EMBER_STOP_NONE);
  ember_session* s = NewSession();
  EXPECT_FAILS_WITH(ember_session_generate_ex(s, nullptr, 3, 0, options_, nullptr, nullptr, &n, &reason),
                    EMBER_ERR_INVALID_ARGUMENT, "prompt is NULL");
  EXPECT_FAILS_WITH(ember_session_generate_ex(s, "", 0, EMBER_TOKENIZE_NO_BOS, nullptr, nullptr, nullptr, &n, &reason),
                    EMBER_ERR_INVALID_ARGUMENT, "empty prompt");
  EXPECT_FAILS_WITH(ember_session_generate_ex(s, "\xff", 1, 0, options_, nullptr, nullptr, &n, &reason),
                    EMBER_ERR_INVALID_UTF8, "ember_session_generate_ex");
  ember_session_free(s);

  EXPECT_FAILS_WITH(ember_generate_options_create(nullptr), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  ember_generate_options_free(nullptr);
  EXPECT_FAILS_WITH(ember_generate_options_set_max_tokens(nullptr, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_max_tokens(options_, -1), EMBER_ERR_INVALID_ARGUMENT, "max_tokens");
  EXPECT_FAILS_WITH(ember_generate_options_set_ignore_eos(nullptr, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_lookup(nullptr, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_lookup(options_, -1), EMBER_ERR_INVALID_ARGUMENT, "n_draft");
  EXPECT_FAILS_WITH(ember_generate_options_set_lookup(options_, 8), EMBER_ERR_INVALID_ARGUMENT, "n_draft");
  EXPECT_FAILS_WITH(ember_session_speculation_stats(nullptr, nullptr, nullptr), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_draft(nullptr, nullptr, 0), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_draft(options_, nullptr, 2), EMBER_ERR_INVALID_ARGUMENT, "draft is NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_draft(options_, nullptr, 8), EMBER_ERR_INVALID_ARGUMENT, "n_draft");
  EXPECT_EQ(ember_generate_options_set_draft(options_, nullptr, 0), EMBER_OK);
  const char* good[] = {"x"};
  const char* empty[] = {"ok", ""};
  const char* null_entry[] = {"ok", nullptr};
  const char* bad_utf8[] = {"\xc3"};
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_strings(nullptr, good, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_strings(options_, nullptr, 1), EMBER_ERR_INVALID_ARGUMENT,
                    "strings is NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_strings(options_, empty, 2), EMBER_ERR_INVALID_ARGUMENT, "empty");
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_strings(options_, null_entry, 2), EMBER_ERR_INVALID_ARGUMENT,
                    "strings[1]");
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_strings(options_, bad_utf8, 1), EMBER_ERR_INVALID_UTF8, "stop");
  const int32_t negative[] = {3, -2};
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_tokens(nullptr, negative, 1), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_tokens(options_, nullptr, 2), EMBER_ERR_INVALID_ARGUMENT,
                    "tokens is NULL");
  EXPECT_FAILS_WITH(ember_generate_options_set_stop_tokens(options_, negative, 2), EMBER_ERR_INVALID_TOKEN, "-2");
  EXPECT_EQ(ember_generate_options_set_stop_strings(options_, good, 1), EMBER_OK);
}

}  // namespace
