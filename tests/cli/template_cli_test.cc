// `ember template`, the exact interface outside checks use: -t TEMPLATE_FILE -j CONTEXT.json
// prints the rendered text and nothing else, exit 0; a template error exits 1 with the
// message on stderr; -m MODEL uses the model's template and special-token texts.
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace {

using ember::testing::CliPath;
using ember::testing::RunCommand;
using ember::testing::TestDataPath;
using ember::testing::WriteTempFile;

// The corpus case named `case_name` (tests/data/chat/cases.jsonl).
nlohmann::ordered_json CorpusCase(const std::string& case_name) {
  std::ifstream in(TestDataPath("chat/cases.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    auto c = nlohmann::ordered_json::parse(line);
    if (c["name"] == case_name) return c;
  }
  ADD_FAILURE() << "no corpus case " << case_name;
  return {};
}

TEST(TemplateCliTest, PrintsExactlyTheRenderedText) {
  for (const char* name : {"Llama-3/multi-turn/gen", "ChatGLM3/unicode/nogen", "phi-4/whitespace/gen",
                           "Qwen-Qwen2.5-7B-Instruct/template-syntax/gen"}) {
    SCOPED_TRACE(name);
    auto c = CorpusCase(name);
    const std::string ctx = WriteTempFile("ctx.json", c["context"].dump());
    auto r = RunCommand(CliPath() + " template -t " + TestDataPath("chat/" + c["template"].get<std::string>()) +
                        " -j " + ctx);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, c["expected"].get<std::string>());
    EXPECT_EQ(r.err, "");
  }
}

TEST(TemplateCliTest, TemplateErrorExitsOneWithTheMessage) {
  auto c = CorpusCase("google-gemma-7b-it/system-user/gen");
  const std::string ctx = WriteTempFile("ctx.json", c["context"].dump());
  auto r = RunCommand(CliPath() + " template -t " + TestDataPath("chat/" + c["template"].get<std::string>()) +
                      " -j " + ctx);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("System role not supported"), std::string::npos) << r.err;

  const std::string bad = WriteTempFile("bad.jinja", "{% for x in %}");
  r = RunCommand(CliPath() + " template -t " + bad + " -j " + ctx);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("syntax error"), std::string::npos) << r.err;

  const std::string not_json = WriteTempFile("bad.json", "{\"messages\": [");
  r = RunCommand(CliPath() + " template -t " + bad + " -j " + not_json);
  EXPECT_EQ(r.exit_code, 1);
}

TEST(TemplateCliTest, ModelTemplateAndSpecialTokens) {
  const std::string ctx = WriteTempFile(
      "ctx.json", R"({"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": true})");
  // tiny-phi2 ships no template: the documented Phi-2 default.
  auto r = RunCommand(CliPath() + " template -m " + TestDataPath("models/tiny-phi2.q8_0.gguf") + " -j " + ctx);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Instruct: Hi\nOutput:");
  // A template file with the model's bos/eos texts, unless the context sets them.
  const std::string tmpl = WriteTempFile("t.jinja", "{{ bos_token }}|{{ eos_token }}");
  r = RunCommand(CliPath() + " template -m " + TestDataPath("models/tiny-llama2.q8_0.gguf") + " -t " + tmpl + " -j " + ctx);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s>|</s>");
  const std::string own = WriteTempFile("own.json", R"({"bos_token": "B"})");
  r = RunCommand(CliPath() + " template -m " + TestDataPath("models/tiny-llama2.q8_0.gguf") + " -t " + tmpl + " -j " + own);
  EXPECT_EQ(r.out, "B|</s>");
}

TEST(TemplateCliTest, UsageErrors) {
  auto r = RunCommand(CliPath() + " template -t x.jinja");
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand(CliPath() + " template -j x.json");
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand(CliPath() + " template -t /nonexistent.jinja -j /nonexistent.json");
  EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
