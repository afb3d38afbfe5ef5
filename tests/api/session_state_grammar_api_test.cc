// The grammar state through ember_session_state_save / _load, as a host drives constrained
// decoding with ember_session_sample and ember_session_eval: saved mid-way through a JSON
// Schema output, loaded into a new session with the same sampler options, the output goes
// on with the same tokens and text as the uninterrupted session; a session whose grammar
// refuses the saved text reports EMBER_ERR_INVALID_ARGUMENT and is unchanged.
#include <cstring>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

using ember::testing::TestDataPath;

constexpr char kSchema[] = R"({"type": "object",
  "properties": {"name": {"type": "string", "maxLength": 6}, "age": {"type": "integer", "minimum": 0, "maximum": 150}},
  "required": ["name", "age"], "additionalProperties": false})";
constexpr char kDigits[] = "root ::= [0-9]{1,40}\n";

class SessionStateGrammarApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ember_model_load(TestDataPath("models/stories260K.gguf").c_str(), nullptr, &model_), EMBER_OK)
        << ember_last_error();
  }
  void TearDown() override { ember_model_free(model_); }

  ember_session* NewSession(int32_t grammar_kind, const char* grammar, uint64_t seed) {
    ember_sampler_options* sampler = nullptr;
    ember_session_options* options = nullptr;
    EXPECT_EQ(ember_sampler_options_create(&sampler), EMBER_OK);
    EXPECT_EQ(ember_sampler_options_set_temperature(sampler, 0.9f), EMBER_OK);
    EXPECT_EQ(ember_sampler_options_set_seed(sampler, seed), EMBER_OK);
    EXPECT_EQ(ember_sampler_options_set_grammar(sampler, grammar_kind, grammar, std::strlen(grammar)), EMBER_OK)
        << ember_last_error();
    EXPECT_EQ(ember_session_options_create(&options), EMBER_OK);
    EXPECT_EQ(ember_session_options_set_n_ctx(options, 512), EMBER_OK);
    EXPECT_EQ(ember_session_options_set_sampler(options, sampler), EMBER_OK);
    ember_session* s = nullptr;
    EXPECT_EQ(ember_session_create(model_, options, &s), EMBER_OK) << ember_last_error();
    ember_session_options_free(options);
    ember_sampler_options_free(sampler);
    return s;
  }
  // Sample, evaluate, repeat: at most `n` tokens, until the grammar allows none.
  static std::vector<int32_t> Continue(ember_session* s, int n) {
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
      int32_t t = 0;
      const ember_status st = ember_session_sample(s, &t);
      if (st == EMBER_ERR_BAD_STATE) break;  // EOS was picked: the grammar has ended
      EXPECT_EQ(st, EMBER_OK) << ember_last_error();
      if (st != EMBER_OK) break;
      out.push_back(t);
      EXPECT_EQ(ember_session_eval(s, &t, 1, nullptr, 0), EMBER_OK) << ember_last_error();
    }
    return out;
  }
  static std::vector<int32_t> Tokens(const ember_session* s) {
    size_t n = 0;
    (void)ember_session_tokens(s, nullptr, 0, &n);
    std::vector<int32_t> ids(n);
    EXPECT_EQ(ember_session_tokens(s, ids.data(), ids.size(), &n), EMBER_OK);
    return ids;
  }
  std::string Text(const std::vector<int32_t>& ids) const {
    size_t n = 0;
    (void)ember_detokenize(model_, ids.data(), ids.size(), 0, nullptr, 0, &n);
    std::string text(n, '\0');
    EXPECT_EQ(ember_detokenize(model_, ids.data(), ids.size(), 0, text.data(), text.size(), &n), EMBER_OK);
    return text;
  }
  static std::string Save(const ember_session* s) {
    size_t size = 0;
    EXPECT_EQ(ember_session_state_save(s, nullptr, 0, &size), EMBER_ERR_BUFFER_TOO_SMALL);
    std::string blob(size, '\0');
    EXPECT_EQ(ember_session_state_save(s, blob.data(), blob.size(), &size), EMBER_OK) << ember_last_error();
    return blob;
  }

  ember_model* model_ = nullptr;
  const std::vector<int32_t> prompt_ = {1, 403, 407, 261, 378};
};

TEST_F(SessionStateGrammarApiTest, LoadedSessionContinuesTheConstrainedOutput) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    ember_session* a = NewSession(EMBER_GRAMMAR_JSON_SCHEMA, kSchema, seed);
    ASSERT_EQ(ember_session_eval(a, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
    const std::vector<int32_t> head = Continue(a, 5);
    ASSERT_EQ(head.size(), 5u);
    const std::string blob = Save(a);
    const std::vector<int32_t> tail = Continue(a, 300);

    // Another session with the same options but its own history and grammar text.
    ember_session* b = NewSession(EMBER_GRAMMAR_JSON_SCHEMA, kSchema, seed + 100);
    ASSERT_EQ(ember_session_eval(b, prompt_.data(), 2, nullptr, 0), EMBER_OK);
    Continue(b, 3);
    ASSERT_EQ(ember_session_state_load(b, blob.data(), blob.size()), EMBER_OK) << ember_last_error();
    EXPECT_EQ(Continue(b, 300), tail);
    EXPECT_EQ(Tokens(b), Tokens(a));
    // Both ended with EOS, which the grammar allows only after a complete object.
    ASSERT_FALSE(tail.empty());
    EXPECT_TRUE(ember_model_token_is_eog(model_, tail.back()));
    int32_t t = 0;
    EXPECT_EQ(ember_session_sample(a, &t), EMBER_ERR_BAD_STATE);
    EXPECT_EQ(ember_session_sample(b, &t), EMBER_ERR_BAD_STATE);
    std::vector<int32_t> output = head;
    output.insert(output.end(), tail.begin(), tail.end() - 1);
    const std::string text = Text(output);
    const size_t first = text.find_first_not_of(" \t\n"), last = text.find_last_not_of(" \t\n");
    ASSERT_NE(first, std::string::npos) << text;
    EXPECT_EQ(text[first], '{') << text;
    EXPECT_EQ(text[last], '}') << text;
    ember_session_free(b);
    ember_session_free(a);
  }
}

TEST_F(SessionStateGrammarApiTest, GrammarThatRefusesTheTextLeavesTheSessionUnchanged) {
  ember_session* a = NewSession(EMBER_GRAMMAR_JSON_SCHEMA, kSchema, 7);
  ASSERT_EQ(ember_session_eval(a, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  Continue(a, 4);
  const std::string blob = Save(a);

  ember_session* digits = NewSession(EMBER_GRAMMAR_GBNF, kDigits, 8);
  ASSERT_EQ(ember_session_eval(digits, prompt_.data(), prompt_.size(), nullptr, 0), EMBER_OK);
  Continue(digits, 2);
  ember_session* twin = nullptr;  // same tokens, RNG position and grammar state
  ASSERT_EQ(ember_session_clone(digits, &twin), EMBER_OK);
  EXPECT_EQ(ember_session_state_load(digits, blob.data(), blob.size()), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ember_last_error()).find("grammar"), std::string::npos) << ember_last_error();
  EXPECT_EQ(Tokens(digits), Tokens(twin));
  EXPECT_EQ(Continue(digits, 6), Continue(twin, 6));
  ember_session_free(twin);
  ember_session_free(digits);
  ember_session_free(a);
}

}  // namespace
