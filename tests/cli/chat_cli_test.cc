// `ember chat` run as a script would: messages piped on stdin, replies on stdout, the
// per-turn token accounting (--verbose) on stderr. The second turn must evaluate only the
// tokens the session does not already hold, and the replies must be what the same greedy
// generation gives through the C API.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

using ember::testing::CliPath;
using ember::testing::RunCommand;
using ember::testing::TestDataPath;

struct ModelDeleter { void operator()(ember_model* m) const { ember_model_free(m); } };
struct SessionDeleter { void operator()(ember_session* s) const { ember_session_free(s); } };
struct ChatDeleter { void operator()(ember_chat* c) const { ember_chat_free(c); } };
struct GenerateOptionsDeleter { void operator()(ember_generate_options* o) const { ember_generate_options_free(o); } };

constexpr int32_t kReplyTokens = 8;

struct TurnStats {
  size_t evaluated = 0, reused = 0;
  int generated = 0;
};

// The "turn N: ..." lines of --verbose, in order.
std::vector<TurnStats> ParseTurns(const std::string& err) {
  std::vector<TurnStats> turns;
  size_t start = 0;
  while (start < err.size()) {
    size_t end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    const std::string line = err.substr(start, end - start);
    int n = 0;
    TurnStats t;
    if (std::sscanf(line.c_str(), "turn %d: prompt tokens evaluated %zu, reused %zu, generated %d", &n, &t.evaluated,
                    &t.reused, &t.generated) == 4) {
      EXPECT_EQ(n, static_cast<int>(turns.size()) + 1) << line;
      turns.push_back(t);
    }
    start = end + 1;
  }
  return turns;
}

// What the conversation gives through the C API: each turn renders the whole chat, tokenizes
// it (control tokens parsed, one BOS when the model wants it), reuses the session's prefix
// and generates greedily. Returns the replies and each turn's prompt length.
struct ApiConversation {
  std::vector<std::string> replies;
  std::vector<size_t> prompt_tokens;
  std::vector<std::vector<int32_t>> prompts;
};

int32_t Collect(void* user_data, int32_t, const char* text, size_t len) {
  static_cast<std::string*>(user_data)->append(text, len);
  return 0;
}

ApiConversation RunThroughApi(const std::string& model_path, const std::string& system,
                              const std::vector<std::string>& user_lines) {
  ApiConversation out;
  ember_model* m = nullptr;
  EXPECT_EQ(ember_model_load(model_path.c_str(), nullptr, &m), EMBER_OK) << ember_last_error();
  std::unique_ptr<ember_model, ModelDeleter> model(m);
  if (!model) return out;
  ember_session* s = nullptr;
  EXPECT_EQ(ember_session_create(model.get(), nullptr, &s), EMBER_OK);  // default sampler: greedy
  std::unique_ptr<ember_session, SessionDeleter> session(s);
  ember_chat* c = nullptr;
  EXPECT_EQ(ember_chat_create(&c), EMBER_OK);
  std::unique_ptr<ember_chat, ChatDeleter> chat(c);
  ember_generate_options* g = nullptr;
  EXPECT_EQ(ember_generate_options_create(&g), EMBER_OK);
  std::unique_ptr<ember_generate_options, GenerateOptionsDeleter> options(g);
  EXPECT_EQ(ember_generate_options_set_max_tokens(g, kReplyTokens), EMBER_OK);
  if (!system.empty()) {
    EXPECT_EQ(ember_chat_add(c, "system", 6, system.data(), system.size()), EMBER_OK);
  }
  for (const std::string& line : user_lines) {
    EXPECT_EQ(ember_chat_add(c, "user", 4, line.data(), line.size()), EMBER_OK);
    size_t len = 0;
    EXPECT_EQ(ember_chat_apply(model.get(), c, nullptr, 0, EMBER_CHAT_ADD_GENERATION_PROMPT, nullptr, 0, &len),
              EMBER_ERR_BUFFER_TOO_SMALL);
    std::string text(len, '\0');
    EXPECT_EQ(ember_chat_apply(model.get(), c, nullptr, 0, EMBER_CHAT_ADD_GENERATION_PROMPT, text.data(), len, &len),
              EMBER_OK);
    size_t n = 0;
    const uint32_t flags = EMBER_TOKENIZE_PARSE_SPECIAL | EMBER_TOKENIZE_NO_BOS;
    EXPECT_EQ(ember_tokenize(model.get(), text.data(), text.size(), flags, nullptr, 0, &n), EMBER_ERR_BUFFER_TOO_SMALL);
    std::vector<int32_t> ids(n);
    EXPECT_EQ(ember_tokenize(model.get(), text.data(), text.size(), flags, ids.data(), n, &n), EMBER_OK);
    const int32_t bos = ember_model_token_bos(model.get());
    if (ember_model_adds_bos(model.get()) && (ids.empty() || ids[0] != bos)) ids.insert(ids.begin(), bos);
    out.prompt_tokens.push_back(ids.size());
    out.prompts.push_back(ids);
    EXPECT_EQ(ember_session_eval_reuse(s, ids.data(), ids.size(), nullptr), EMBER_OK) << ember_last_error();
    std::string reply;
    EXPECT_EQ(ember_session_generate_ex(s, nullptr, 0, EMBER_TOKENIZE_NO_BOS, g, Collect, &reply, nullptr, nullptr),
              EMBER_OK)
        << ember_last_error();
    out.replies.push_back(reply);
    EXPECT_EQ(ember_chat_add(c, "assistant", 9, reply.data(), reply.size()), EMBER_OK);
  }
  return out;
}

// A copy of tiny-llama2/ (weights linked) with a Llama-2-chat style template that writes
// bos_token itself, so a BOS added on top would be a second one.
std::string TinyLlamaWithTemplate() {
  namespace fs = std::filesystem;
  const fs::path src = TestDataPath("models/tiny-llama2");
  const fs::path dst = fs::path(::testing::TempDir()) / "chat_cli_tiny_llama2";
  fs::remove_all(dst);
  fs::create_directories(dst);
  for (const auto& entry : fs::directory_iterator(src)) {
    if (entry.path().extension() == ".safetensors") fs::create_symlink(fs::absolute(entry.path()), dst / entry.path().filename());
    else fs::copy_file(entry.path(), dst / entry.path().filename());
  }
  std::ofstream(dst / "chat_template.jinja")
      << "{{ bos_token }}{% for m in messages %}"
         "{% if m['role'] == 'system' %}<<SYS>>{{ m['content'] }}<</SYS>>"
         "{% elif m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
         "{% else %} {{ m['content'] }} {{ eos_token }}{% endif %}{% endfor %}";
  return dst.string();
}

void CheckTwoTurnChat(const std::string& model_path, const std::string& system) {
  const std::string system_flag = system.empty() ? "" : " --system '" + system + "'";
  auto r = RunCommand("printf 'Hi\\n\\nTell me more\\n' | " + CliPath() + " chat -m " + model_path + system_flag +
                      " -n 8 --temp 0 --repeat-penalty 1 --verbose -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<TurnStats> turns = ParseTurns(r.err);
  ASSERT_EQ(turns.size(), 2u) << r.err;  // the empty line is no turn

  const ApiConversation api = RunThroughApi(model_path, system, {"Hi", "Tell me more"});
  ASSERT_EQ(api.replies.size(), 2u);
  // Stdout is each reply followed by a newline, exactly the text the API generates (greedy,
  // no penalty: the session defaults).
  EXPECT_EQ(r.out, api.replies[0] + "\n" + api.replies[1] + "\n");

  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i + 1);
    EXPECT_EQ(turns[i].evaluated + turns[i].reused, api.prompt_tokens[i]);
    EXPECT_LE(turns[i].generated, kReplyTokens);
    EXPECT_GT(turns[i].generated, 0);
  }
  EXPECT_EQ(turns[0].reused, 0u);
  // Turn 2 keeps at least all of turn 1's prompt and evaluates only what follows.
  EXPECT_GE(turns[1].reused, api.prompt_tokens[0]);
  EXPECT_LT(turns[1].evaluated, api.prompt_tokens[1]);
  // And the prompt really does extend turn 1's: the reuse is a genuine prefix.
  ASSERT_GE(api.prompts[1].size(), api.prompts[0].size());
  EXPECT_TRUE(std::equal(api.prompts[0].begin(), api.prompts[0].end(), api.prompts[1].begin()));
  std::printf("[ %s ] turn 1: evaluated %zu; turn 2: evaluated %zu, reused %zu of %zu\n", model_path.c_str(),
              turns[0].evaluated, turns[1].evaluated, turns[1].reused, api.prompt_tokens[1]);
}

TEST(ChatCliTest, Stories260KDefaultTemplateReusesTheFirstTurn) {
  CheckTwoTurnChat(TestDataPath("models/stories260K.gguf"), "");
}

TEST(ChatCliTest, PhiInstructFormatWithSystemMessage) {
  CheckTwoTurnChat(TestDataPath("models/tiny-phi2.q8_0.gguf"), "Be brief.");
}

TEST(ChatCliTest, ModelTemplateWritingBosGetsOneBos) {
  const std::string dir = TinyLlamaWithTemplate();
  CheckTwoTurnChat(dir, "Be brief.");
  // The template's bos_token text became the BOS id, and no second one was added.
  ember_model* m = nullptr;
  ASSERT_EQ(ember_model_load(dir.c_str(), nullptr, &m), EMBER_OK) << ember_last_error();
  std::unique_ptr<ember_model, ModelDeleter> model(m);
  const ApiConversation api = RunThroughApi(dir, "", {"Hi"});
  ASSERT_EQ(api.prompts.size(), 1u);
  ASSERT_GE(api.prompts[0].size(), 2u);
  EXPECT_EQ(api.prompts[0][0], ember_model_token_bos(model.get()));
  EXPECT_NE(api.prompts[0][1], ember_model_token_bos(model.get()));
}

TEST(ChatCliTest, NoInputIsNoTurnAndPromptFlagsAreRefused) {
  const std::string model = TestDataPath("models/stories260K.gguf");
  auto r = RunCommand("printf '\\n  \\n' | " + CliPath() + " chat -m " + model + " --verbose");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(ParseTurns(r.err).empty()) << r.err;

  r = RunCommand("printf 'Hi\\n' | " + CliPath() + " chat -m " + model + " -p Hi");
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand("printf 'Hi\\n' | " + CliPath() + " chat");  // no -m
  EXPECT_NE(r.exit_code, 0) << r.err;
}

}  // namespace
