// ember_sampler_options_set_grammar through the C API: compile errors at set time with
// their location, clearing, EMBER_STOP_GRAMMAR, truncation as MAX_TOKENS, and
// ember_session_sample() honouring the grammar.
#include <string>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace {

using ::testing::HasSubstr;

int32_t Append(void* user, int32_t, const char* text, size_t len) {
  static_cast<std::string*>(user)->append(text, len);
  return 0;
}

class GrammarApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ember_model_load(ember::testing::TestDataPath("models/stories260K.gguf").c_str(), nullptr, &model_),
              EMBER_OK)
        << ember_last_error();
    ASSERT_EQ(ember_sampler_options_create(&sampler_), EMBER_OK);
  }
  void TearDown() override {
    ember_session_free(session_);
    ember_sampler_options_free(sampler_);
    ember_model_free(model_);
  }
  ember_session* Session() {
    ember_session_options* o = nullptr;
    EXPECT_EQ(ember_session_options_create(&o), EMBER_OK);
    EXPECT_EQ(ember_session_options_set_sampler(o, sampler_), EMBER_OK);
    EXPECT_EQ(ember_session_create(model_, o, &session_), EMBER_OK) << ember_last_error();
    ember_session_options_free(o);
    return session_;
  }
  ember_status Set(int32_t kind, const std::string& text) {
    return ember_sampler_options_set_grammar(sampler_, kind, text.data(), text.size());
  }

  ember_model* model_ = nullptr;
  ember_sampler_options* sampler_ = nullptr;
  ember_session* session_ = nullptr;
};

TEST_F(GrammarApiTest, BadGrammarsFailAtSetTimeWithTheirLocation) {
  EXPECT_EQ(Set(EMBER_GRAMMAR_GBNF, "root ::= \"a\"\nfoo ::= (\"b\""), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(ember_last_error(), HasSubstr("line 2, column"));
  EXPECT_EQ(Set(EMBER_GRAMMAR_JSON_SCHEMA, R"({"properties": {"a": {"type": "strin"}}})"), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(ember_last_error(), HasSubstr("/properties/a"));
  EXPECT_EQ(Set(EMBER_GRAMMAR_JSON_SCHEMA, R"({"type": "object", "unevaluatedProperties": false})"),
            EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(ember_last_error(), HasSubstr("unevaluatedProperties"));
  EXPECT_EQ(Set(EMBER_GRAMMAR_JSON_SCHEMA, "{not json"), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(Set(42, "root ::= \"a\""), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_sampler_options_set_grammar(sampler_, EMBER_GRAMMAR_GBNF, nullptr, 3), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_sampler_options_set_grammar(nullptr, EMBER_GRAMMAR_JSON_OBJECT, nullptr, 0),
            EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_sampler_options_set_grammar(sampler_, EMBER_GRAMMAR_JSON_OBJECT, nullptr, 0), EMBER_OK);
}

TEST_F(GrammarApiTest, FailedSetKeepsThePreviousGrammar) {
  ASSERT_EQ(Set(EMBER_GRAMMAR_GBNF, "root ::= \"yes\" | \"no\""), EMBER_OK);
  ASSERT_EQ(Set(EMBER_GRAMMAR_GBNF, "root ::= ("), EMBER_ERR_INVALID_ARGUMENT);
  std::string text;
  int32_t n = 0, reason = 0;
  ASSERT_EQ(ember_session_generate_ex(Session(), "Once", 4, 0, nullptr, Append, &text, &n, &reason), EMBER_OK)
      << ember_last_error();
  EXPECT_TRUE(text == "yes" || text == "no") << text;
  EXPECT_TRUE(reason == EMBER_STOP_GRAMMAR || reason == EMBER_STOP_EOS) << reason;
}

TEST_F(GrammarApiTest, GenerationStopsWhenTheGrammarIsComplete) {
  ASSERT_EQ(Set(EMBER_GRAMMAR_JSON_SCHEMA,
                R"({"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9}},)"
                R"("required":["n"],"additionalProperties":false})"),
            EMBER_OK);
  ember_session* s = Session();
  for (int call = 0; call < 2; ++call) {  // each call's output is constrained from its start
    std::string text;
    int32_t n = 0, reason = 0;
    ASSERT_EQ(ember_session_generate_ex(s, "Once", 4, 0, nullptr, Append, &text, &n, &reason), EMBER_OK)
        << ember_last_error();
    ASSERT_TRUE(reason == EMBER_STOP_GRAMMAR || reason == EMBER_STOP_EOS) << reason;
    const nlohmann::json v = nlohmann::json::parse(text);
    ASSERT_TRUE(v.is_object()) << text;
    EXPECT_GE(v["n"].get<int>(), 1);
    EXPECT_LE(v["n"].get<int>(), 9);
  }
}

TEST_F(GrammarApiTest, TruncationIsMaxTokens) {
  ASSERT_EQ(Set(EMBER_GRAMMAR_JSON_OBJECT, ""), EMBER_OK);
  ember_generate_options* g = nullptr;
  ASSERT_EQ(ember_generate_options_create(&g), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_max_tokens(g, 2), EMBER_OK);
  std::string text;
  int32_t n = 0, reason = 0;
  ASSERT_EQ(ember_session_generate_ex(Session(), "Once", 4, 0, g, Append, &text, &n, &reason), EMBER_OK);
  EXPECT_EQ(reason, EMBER_STOP_MAX_TOKENS);
  EXPECT_EQ(n, 2);
  ember_generate_options_free(g);
}

TEST_F(GrammarApiTest, NoneClearsTheGrammar) {
  ASSERT_EQ(Set(EMBER_GRAMMAR_GBNF, "root ::= \"x\""), EMBER_OK);
  ASSERT_EQ(ember_sampler_options_set_grammar(sampler_, EMBER_GRAMMAR_NONE, nullptr, 0), EMBER_OK);
  ember_generate_options* g = nullptr;
  ASSERT_EQ(ember_generate_options_create(&g), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_max_tokens(g, 8), EMBER_OK);
  ASSERT_EQ(ember_generate_options_set_ignore_eos(g, 1), EMBER_OK);
  std::string text;
  int32_t n = 0, reason = 0;
  ASSERT_EQ(ember_session_generate_ex(Session(), "Once", 4, 0, g, Append, &text, &n, &reason), EMBER_OK);
  EXPECT_EQ(reason, EMBER_STOP_MAX_TOKENS);
  EXPECT_NE(text, "x");
  ember_generate_options_free(g);
}

TEST_F(GrammarApiTest, SampleHonoursTheGrammarAndEndsInBadState) {
  ASSERT_EQ(Set(EMBER_GRAMMAR_GBNF, "root ::= \"ab\""), EMBER_OK);
  ember_session* s = Session();
  int32_t ids[64];
  size_t n_ids = 0;
  ASSERT_EQ(ember_tokenize(model_, "Once", 4, EMBER_TOKENIZE_DEFAULT, ids, 64, &n_ids), EMBER_OK);
  ASSERT_EQ(ember_session_eval(s, ids, n_ids, nullptr, 0), EMBER_OK);
  std::string text;
  int32_t token = -1;
  ember_status st = EMBER_OK;
  for (int i = 0; i < 8 && st == EMBER_OK; ++i) {
    st = ember_session_sample(s, &token);
    if (st != EMBER_OK) break;
    if (ember_model_token_is_eog(model_, token)) continue;  // sampled again: the grammar has ended
    char piece[32];
    size_t len = 0;
    ASSERT_EQ(ember_detokenize(model_, &token, 1, EMBER_DETOKENIZE_DEFAULT, piece, sizeof(piece), &len), EMBER_OK);
    text.append(piece, len);
    ASSERT_EQ(ember_session_eval(s, &token, 1, nullptr, 0), EMBER_OK);
  }
  EXPECT_EQ(text, "ab");
  EXPECT_EQ(st, EMBER_ERR_BAD_STATE);
  EXPECT_THAT(ember_last_error(), HasSubstr("grammar"));
}

}  // namespace
