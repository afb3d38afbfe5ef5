// `ember grammar-check`: the exact output interface and exit codes.
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

CommandResult Check(const std::string& model, const std::string& mode, const std::string& text) {
  const std::string text_file = WriteTempFile("text.txt", text);
  return RunCommand(CliPath() + " grammar-check -m " + TestDataPath(model) + " " + mode + " --text-file " + text_file);
}

void ExpectShape(const std::string& out) {
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);  // one line
  EXPECT_EQ(out.find(' '), std::string::npos);  // compact
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(out);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"accepted", "complete", "tokens", "rejected_at", "mask_us_median",
                                            "mask_us_max"}));
}

TEST(GrammarCheckCli, SchemaVerdicts) {
  const std::string schema = WriteTempFile(
      "schema.json", R"({"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer","minimum":1}},)"
                     R"("required":["name","n"],"additionalProperties":false})");
  for (const char* model : {"models/tiny-phi2", "models/tiny-llama2", "models/stories260K.gguf"}) {
    CommandResult ok = Check(model, "--json-schema " + schema, R"({"name":"Zoë \"Z\"","n":12})");
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    ExpectShape(ok.out);
    nlohmann::json j = nlohmann::json::parse(ok.out);
    EXPECT_TRUE(j["accepted"].get<bool>()) << model << " " << ok.out;
    EXPECT_TRUE(j["complete"].get<bool>()) << model;
    EXPECT_TRUE(j["rejected_at"].is_null());

    CommandResult bad = Check(model, "--json-schema " + schema, R"({"name":"x","n":0})");
    ASSERT_EQ(bad.exit_code, 0);
    j = nlohmann::json::parse(bad.out);
    EXPECT_FALSE(j["accepted"].get<bool>() && j["complete"].get<bool>()) << model;
    EXPECT_TRUE(j["rejected_at"].is_number_integer());

    CommandResult partial = Check(model, "--json-schema " + schema, R"({"name":"x")");
    j = nlohmann::json::parse(partial.out);
    EXPECT_TRUE(j["accepted"].get<bool>());
    EXPECT_FALSE(j["complete"].get<bool>());
  }
}

TEST(GrammarCheckCli, GbnfAndJsonObject) {
  const std::string g = WriteTempFile("g.gbnf", "root ::= (\"yes\" | \"no\") \".\"\n");
  for (const char* model : {"models/tiny-phi2", "models/tiny-llama2"}) {
    nlohmann::json j = nlohmann::json::parse(Check(model, "--grammar " + g, "yes.").out);
    EXPECT_TRUE(j["accepted"].get<bool>() && j["complete"].get<bool>()) << model;
    j = nlohmann::json::parse(Check(model, "--grammar " + g, "maybe.").out);
    EXPECT_FALSE(j["accepted"].get<bool>()) << model;
    EXPECT_EQ(j["rejected_at"], 0);
    j = nlohmann::json::parse(Check(model, "--json-object", R"({"a":[1,{"b":null}]})").out);
    EXPECT_TRUE(j["accepted"].get<bool>() && j["complete"].get<bool>()) << model;
    j = nlohmann::json::parse(Check(model, "--json-object", R"([1])").out);
    EXPECT_FALSE(j["accepted"].get<bool>()) << model;
  }
}

TEST(GrammarCheckCli, CompileErrorsExitOne) {
  const std::string bad_schema = WriteTempFile("bad.json", R"({"type":"object","patternProperties":{"^a":{}}})");
  CommandResult r = Check("models/tiny-phi2", "--json-schema " + bad_schema, "{}");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("patternProperties"), std::string::npos) << r.err;
  const std::string bad_gbnf = WriteTempFile("bad.gbnf", "root ::= \"a\" |\n  (b\n");
  r = Check("models/tiny-phi2", "--grammar " + bad_gbnf, "a");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  r = Check("models/tiny-phi2", "", "a");
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace ember::testing
