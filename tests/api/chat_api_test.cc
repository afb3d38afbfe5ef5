// Chat templates through the C API: message lists and JSON contexts, the model's own
// template (HF directory variants) and the defaults, the size-query protocol, errors, and
// that rendered special tokens tokenize as control tokens.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace {

using ember::testing::TestDataPath;

struct ChatDeleter { void operator()(ember_chat* c) const { ember_chat_free(c); } };
struct ModelDeleter { void operator()(ember_model* m) const { ember_model_free(m); } };
using ChatPtr = std::unique_ptr<ember_chat, ChatDeleter>;
using ModelPtr = std::unique_ptr<ember_model, ModelDeleter>;

ModelPtr Load(const std::string& path) {
  ember_model* m = nullptr;
  EXPECT_EQ(ember_model_load(path.c_str(), nullptr, &m), EMBER_OK) << path << ": " << ember_last_error();
  return ModelPtr(m);
}

ChatPtr MakeChat(std::initializer_list<std::pair<std::string, std::string>> messages) {
  ember_chat* c = nullptr;
  EXPECT_EQ(ember_chat_create(&c), EMBER_OK);
  for (const auto& [role, content] : messages) {
    EXPECT_EQ(ember_chat_add(c, role.data(), role.size(), content.data(), content.size()), EMBER_OK);
  }
  return ChatPtr(c);
}

// ember_chat_apply with the size query; "" and the status on failure.
std::string Apply(const ember_model* model, const ember_chat* chat, const char* tmpl, uint32_t flags,
                  ember_status* status = nullptr) {
  size_t len = 0;
  const size_t tlen = tmpl ? std::strlen(tmpl) : 0;
  ember_status st = ember_chat_apply(model, chat, tmpl, tlen, flags, nullptr, 0, &len);
  std::string text;
  if (st == EMBER_ERR_BUFFER_TOO_SMALL) {
    text.resize(len);
    st = ember_chat_apply(model, chat, tmpl, tlen, flags, text.data(), text.size(), &len);
  }
  if (status) *status = st;
  else EXPECT_EQ(st, EMBER_OK) << ember_last_error();
  return st == EMBER_OK ? text.substr(0, len) : "";
}

std::string ApplyJson(const ember_model* model, const char* tmpl, const std::string& json,
                      ember_status* status = nullptr) {
  size_t len = 0;
  const size_t tlen = tmpl ? std::strlen(tmpl) : 0;
  ember_status st = ember_chat_apply_json(model, tmpl, tlen, json.data(), json.size(), nullptr, 0, &len);
  std::string text;
  if (st == EMBER_ERR_BUFFER_TOO_SMALL) {
    text.resize(len);
    st = ember_chat_apply_json(model, tmpl, tlen, json.data(), json.size(), text.data(), text.size(), &len);
  }
  if (status) *status = st;
  else EXPECT_EQ(st, EMBER_OK) << ember_last_error();
  return st == EMBER_OK ? text.substr(0, len) : "";
}

TEST(ChatApiTest, ModelsWithoutATemplateGetChatMlOrPhi2) {
  ModelPtr llama = Load(TestDataPath("models/tiny-llama2.q8_0.gguf"));
  EXPECT_STREQ(ember_model_chat_template(llama.get()), "");
  ChatPtr chat = MakeChat({{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello."}, {"user", "Bye"}});
  EXPECT_EQ(Apply(llama.get(), chat.get(), nullptr, EMBER_CHAT_ADD_GENERATION_PROMPT),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
  ModelPtr phi2 = Load(TestDataPath("models/tiny-phi2.q8_0.gguf"));
  EXPECT_EQ(Apply(phi2.get(), chat.get(), nullptr, EMBER_CHAT_ADD_GENERATION_PROMPT),
            "Be brief.\nInstruct: Hi\nOutput: Hello.\nInstruct: Bye\nOutput:");
  EXPECT_EQ(Apply(phi2.get(), chat.get(), nullptr, EMBER_CHAT_DEFAULT),
            "Be brief.\nInstruct: Hi\nOutput: Hello.\nInstruct: Bye\n");
}

TEST(ChatApiTest, HostTemplateSeesTheModelsSpecialTokens) {
  ModelPtr llama = Load(TestDataPath("models/tiny-llama2.q8_0.gguf"));
  ChatPtr chat = MakeChat({{"user", "Hi"}});
  const char* tmpl = "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}{{ eos_token }}"
                     "{% if add_generation_prompt %}>{% endif %}";
  EXPECT_EQ(Apply(llama.get(), chat.get(), tmpl, EMBER_CHAT_ADD_GENERATION_PROMPT), "<s>[user] Hi</s>>");
  // Without a model the special tokens are empty.
  EXPECT_EQ(Apply(nullptr, chat.get(), tmpl, EMBER_CHAT_DEFAULT), "[user] Hi");
}

TEST(ChatApiTest, RenderedSpecialTokensTokenizeAsControlTokens) {
  ModelPtr llama = Load(TestDataPath("models/tiny-llama2.q8_0.gguf"));
  ChatPtr chat = MakeChat({{"user", "Hi"}, {"assistant", "Yo"}});
  // The Llama 2 chat layout: BOS and EOS are written by the template itself.
  const char* tmpl =
      "{% for m in messages %}{% if m.role == 'user' %}{{ bos_token + '[INST] ' + m.content + ' [/INST]' }}"
      "{% else %}{{ ' ' + m.content + ' ' + eos_token }}{% endif %}{% endfor %}";
  const std::string text = Apply(llama.get(), chat.get(), tmpl, EMBER_CHAT_DEFAULT);
  ASSERT_EQ(text, "<s>[INST] Hi [/INST] Yo </s>");
  size_t n = 0;
  std::vector<int32_t> ids(64);
  ASSERT_EQ(ember_tokenize(llama.get(), text.data(), text.size(), EMBER_TOKENIZE_PARSE_SPECIAL | EMBER_TOKENIZE_NO_BOS,
                           ids.data(), ids.size(), &n),
            EMBER_OK);
  ids.resize(n);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), ember_model_token_bos(llama.get()));
  EXPECT_EQ(ids.back(), ember_model_token_eos(llama.get()));
  for (size_t i = 1; i + 1 < ids.size(); ++i) {
    EXPECT_NE(ids[i], ember_model_token_bos(llama.get()));
    EXPECT_NE(ids[i], ember_model_token_eos(llama.get()));
  }
  // Phi-2's <|endoftext|> too.
  ModelPtr phi2 = Load(TestDataPath("models/tiny-phi2.q8_0.gguf"));
  const std::string eos_text = ApplyJson(phi2.get(), "{{ eos_token }}", "{}");
  ASSERT_EQ(eos_text, "<|endoftext|>");
  ASSERT_EQ(ember_tokenize(phi2.get(), eos_text.data(), eos_text.size(), EMBER_TOKENIZE_PARSE_SPECIAL | EMBER_TOKENIZE_NO_BOS,
                           ids.data(), 64, &n),
            EMBER_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(ids[0], ember_model_token_eos(phi2.get()));
}

TEST(ChatApiTest, JsonContextCarriesToolsAndExtraVariables) {
  const char* tmpl =
      "{% for t in tools %}{{ t.function.name }}:{{ t.function.parameters|tojson }}\n{% endfor %}"
      "{% for m in messages %}{{ m.role }}"
      "{% if m.tool_calls %}{% for c in m.tool_calls %}<call {{ c.function.name }} {{ c.function.arguments|tojson }}>"
      "{% endfor %}{% else %}={{ m.content }}{% endif %}\n{% endfor %}{{ today }}|{{ bos_token }}";  // trim_blocks eats "\n"
  const std::string ctx = R"({"tools": [{"type": "function", "function": {"name": "get", "parameters": {"z": 1, "a": "ü"}}}],
    "messages": [{"role": "user", "content": "w?"},
                 {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "get", "arguments": {"city": "Paris"}}}]},
                 {"role": "tool", "content": "22C"}],
    "today": "1 Jan"})";
  ModelPtr llama = Load(TestDataPath("models/tiny-llama2.q8_0.gguf"));
  EXPECT_EQ(ApplyJson(llama.get(), tmpl, ctx),
            "get:{\"z\": 1, \"a\": \"ü\"}\nuser=w?assistant<call get {\"city\": \"Paris\"}>tool=22C1 Jan|<s>");
  // The context's own bos_token wins over the model's.
  EXPECT_EQ(ApplyJson(llama.get(), "{{ bos_token }}", R"({"bos_token": "B"})"), "B");
  EXPECT_EQ(ApplyJson(nullptr, "{{ bos_token }}|{{ add_generation_prompt }}", "{}"), "|");
}

TEST(ChatApiTest, SizeQueryAndBufferTooSmall) {
  ChatPtr chat = MakeChat({{"user", "Hello"}});
  const char* tmpl = "{{ messages[0].content }}";
  size_t len = 0;
  ASSERT_EQ(ember_chat_apply(nullptr, chat.get(), tmpl, std::strlen(tmpl), 0, nullptr, 0, &len),
            EMBER_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 5u);
  char small[3];
  len = 0;
  EXPECT_EQ(ember_chat_apply(nullptr, chat.get(), tmpl, std::strlen(tmpl), 0, small, sizeof small, &len),
            EMBER_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 5u);
  char exact[5];
  ASSERT_EQ(ember_chat_apply(nullptr, chat.get(), tmpl, std::strlen(tmpl), 0, exact, sizeof exact, &len), EMBER_OK);
  EXPECT_EQ(std::string(exact, len), "Hello");
  // An empty render needs no buffer.
  ASSERT_EQ(ember_chat_apply(nullptr, chat.get(), "", 0, 0, nullptr, 0, &len), EMBER_OK);
  EXPECT_EQ(len, 0u);
}

TEST(ChatApiTest, ErrorsAreStatusesWithMessages) {
  ChatPtr chat = MakeChat({{"user", "a"}, {"user", "b"}});
  ember_status st;
  const char* alternate =
      "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
      "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% endfor %}";
  Apply(nullptr, chat.get(), alternate, 0, &st);
  EXPECT_EQ(st, EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ember_last_error()).find("Conversation roles must alternate"), std::string::npos);
  Apply(nullptr, chat.get(), "{% if %}", 0, &st);
  EXPECT_EQ(st, EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ember_last_error()).find("syntax error"), std::string::npos);
  Apply(nullptr, chat.get(), "bad \xff utf8", 0, &st);
  EXPECT_EQ(st, EMBER_ERR_INVALID_UTF8);
  ApplyJson(nullptr, "x", "[1]", &st);
  EXPECT_EQ(st, EMBER_ERR_INVALID_ARGUMENT);
  ApplyJson(nullptr, "x", "{\"a\":", &st);
  EXPECT_EQ(st, EMBER_ERR_INVALID_ARGUMENT);

  size_t len = 0;
  EXPECT_EQ(ember_chat_apply(nullptr, chat.get(), nullptr, 0, 0, nullptr, 0, &len), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_apply(nullptr, nullptr, "x", 1, 0, nullptr, 0, &len), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_apply(nullptr, chat.get(), "x", 1, 0, nullptr, 0, nullptr), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_apply(nullptr, chat.get(), "x", 1, 0, nullptr, 5, &len), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_apply(nullptr, chat.get(), "x", 1, 0x80, nullptr, 0, &len), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_apply_json(nullptr, "x", 1, nullptr, 0, nullptr, 0, &len), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_apply_json(nullptr, nullptr, 0, "{}", 2, nullptr, 0, &len), EMBER_ERR_INVALID_ARGUMENT);

  EXPECT_EQ(ember_chat_create(nullptr), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_add(nullptr, "u", 1, "c", 1), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_add(chat.get(), nullptr, 1, "c", 1), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_add(chat.get(), "u", 1, nullptr, 1), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ember_chat_add(chat.get(), "u", 1, "\xc3", 1), EMBER_ERR_INVALID_UTF8);
  EXPECT_EQ(ember_chat_add(chat.get(), nullptr, 0, nullptr, 0), EMBER_OK);  // empty role and content
  ember_chat_free(nullptr);
  EXPECT_STREQ(ember_model_chat_template(nullptr), "");
}

// A copy of tiny-llama2/ (weights linked, not copied) whose tokenizer files we may edit.
std::string HfCopy(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path src = TestDataPath("models/tiny-llama2");
  const fs::path dst = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dst);
  fs::create_directories(dst);
  for (const auto& entry : fs::directory_iterator(src)) {
    if (entry.path().extension() == ".safetensors") ember::testing::LinkOrCopyFile(fs::absolute(entry.path()), dst / entry.path().filename());
    else fs::copy_file(entry.path(), dst / entry.path().filename());
  }
  return dst.string();
}

void SetChatTemplate(const std::string& dir, const nlohmann::json& value) {
  auto config = ember::testing::ReadJson(dir + "/tokenizer_config.json");
  config["chat_template"] = value;
  std::ofstream(dir + "/tokenizer_config.json") << config.dump();
}

TEST(ChatApiTest, HfDirectoryTemplates) {
  ChatPtr chat = MakeChat({{"user", "Hi"}});
  {
    const std::string dir = HfCopy("chat_string");
    SetChatTemplate(dir, "{{ bos_token }}S:{{ messages[0].content }}");
    ModelPtr m = Load(dir);
    EXPECT_STREQ(ember_model_chat_template(m.get()), "{{ bos_token }}S:{{ messages[0].content }}");
    EXPECT_EQ(Apply(m.get(), chat.get(), nullptr, 0), "<s>S:Hi");
  }
  {
    const std::string dir = HfCopy("chat_list");
    SetChatTemplate(dir, nlohmann::json::array({{{"name", "tool_use"}, {"template", "T"}},
                                                {{"name", "default"}, {"template", "D:{{ messages|length }}"}}}));
    ModelPtr m = Load(dir);
    EXPECT_EQ(Apply(m.get(), chat.get(), nullptr, 0), "D:1");
  }
  {
    // chat_template.jinja beside tokenizer_config.json takes precedence.
    const std::string dir = HfCopy("chat_file");
    SetChatTemplate(dir, "from config");
    std::ofstream(dir + "/chat_template.jinja") << "from file {{ eos_token }}\n";
    ModelPtr m = Load(dir);
    EXPECT_EQ(Apply(m.get(), chat.get(), nullptr, 0), "from file </s>");
  }
  {
    const std::string dir = HfCopy("chat_bad");
    SetChatTemplate(dir, 42);
    ember_model* m = nullptr;
    EXPECT_EQ(ember_model_load(dir.c_str(), nullptr, &m), EMBER_ERR_INVALID_MODEL);
    EXPECT_EQ(m, nullptr);
  }
}

}  // namespace
