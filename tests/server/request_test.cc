// The request -> generation-parameters mapping of `ember serve` (server/request.h).
#include "server/request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ember::server {
namespace {

GenerationRequest ParseOk(Endpoint endpoint, const std::string& body) {
  GenerationRequest r;
  ApiError e;
  EXPECT_TRUE(ParseGenerationRequest(endpoint, body, &r, &e)) << body << ": " << e.message;
  return r;
}

ApiError ParseError(Endpoint endpoint, const std::string& body) {
  GenerationRequest r;
  ApiError e;
  EXPECT_FALSE(ParseGenerationRequest(endpoint, body, &r, &e)) << body;
  EXPECT_EQ(e.http_status, 400);
  EXPECT_FALSE(e.message.empty());
  return e;
}

constexpr Endpoint kChat = Endpoint::kChatCompletions;
constexpr Endpoint kText = Endpoint::kCompletions;

TEST(ServeRequest, ChatDefaultsAreOpenAIs) {
  GenerationRequest r = ParseOk(kChat, R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, "user");
  EXPECT_EQ(r.messages[0].content, "hi");
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_EQ(r.temperature, 1.0f);
  EXPECT_EQ(r.top_p, 1.0f);
  EXPECT_FALSE(r.seed.has_value());
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.stop.empty());
}

TEST(ServeRequest, MapsEveryParameter) {
  GenerationRequest r = ParseOk(kChat, R"({"messages":[{"role":"developer","content":[{"type":"text","text":"a"},
      {"type":"text","text":"b"}]},{"role":"assistant","content":null}],
      "max_tokens":5,"max_completion_tokens":7,"temperature":0.5,"top_p":0.9,"seed":-1,
      "presence_penalty":1.5,"frequency_penalty":-2,"logit_bias":{"12":-100,"3":2.5},"stop":["x","","y"],
      "stream":true,"stream_options":{"include_usage":true},"n":1,"user":"u",
      "response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"}}}})");
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[0].content, "a\nb");
  EXPECT_EQ(r.messages[1].content, "");
  EXPECT_EQ(r.max_tokens, 7);  // max_completion_tokens wins
  EXPECT_FLOAT_EQ(r.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.top_p, 0.9f);
  EXPECT_EQ(r.seed, ~uint64_t{0});
  EXPECT_FLOAT_EQ(r.presence_penalty, 1.5f);
  EXPECT_FLOAT_EQ(r.frequency_penalty, -2.0f);
  ASSERT_EQ(r.logit_bias.size(), 2u);
  EXPECT_EQ(r.logit_bias[0].first, 3);  // sorted by id
  EXPECT_FLOAT_EQ(r.logit_bias[0].second, 2.5f);
  EXPECT_EQ(r.logit_bias[1].first, 12);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "y"}));  // empty stop strings mean nothing
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.response_format, ResponseFormat::kJsonSchema);
  EXPECT_EQ(nlohmann::json::parse(r.json_schema), nlohmann::json::parse(R"({"type":"object"})"));
}

TEST(ServeRequest, NullMeansAbsent) {
  GenerationRequest r = ParseOk(kChat, R"({"messages":[{"role":"user","content":"x"}],"max_tokens":null,
      "temperature":null,"stop":null,"n":null,"seed":null,"stream":null})");
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_EQ(r.temperature, 1.0f);
}

TEST(ServeRequest, CompletionPrompts) {
  EXPECT_EQ(ParseOk(kText, R"({"prompt":"abc"})").prompt, "abc");
  EXPECT_EQ(ParseOk(kText, R"({"prompt":"abc"})").max_tokens, 16);  // legacy default
  EXPECT_EQ(ParseOk(kText, R"({"prompt":["abc"]})").prompt, "abc");
  GenerationRequest ids = ParseOk(kText, R"({"prompt":[1,2,3],"echo":true})");
  EXPECT_TRUE(ids.prompt_is_tokens);
  EXPECT_TRUE(ids.echo);
  EXPECT_EQ(ids.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(ParseOk(kText, R"({"prompt":[[4,5]]})").prompt_tokens, (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(ParseError(kText, R"({"prompt":["a","b"]})").param, "prompt");
  EXPECT_EQ(ParseError(kText, R"({"prompt":[1,"b"]})").param, "prompt[1]");
  EXPECT_EQ(ParseError(kText, R"({})").param, "prompt");
}

TEST(ServeRequest, RejectsWithTheParameterNamed) {
  const std::string m = R"("messages":[{"role":"user","content":"x"}])";
  const std::pair<std::string, std::string> cases[] = {
      {"{" + m + R"(,"max_tokens":0})", "max_tokens"},
      {"{" + m + R"(,"max_tokens":1.5})", "max_tokens"},
      {"{" + m + R"(,"max_tokens":true})", "max_tokens"},
      {"{" + m + R"(,"max_tokens":99999999999999999999})", "max_tokens"},
      {"{" + m + R"(,"temperature":2.01})", "temperature"},
      {"{" + m + R"(,"temperature":"1"})", "temperature"},
      {"{" + m + R"(,"top_p":-0.1})", "top_p"},
      {"{" + m + R"(,"presence_penalty":3})", "presence_penalty"},
      {"{" + m + R"(,"n":2})", "n"},
      {"{" + m + R"(,"stop":[1]})", "stop[0]"},
      {"{" + m + R"(,"stop":["a","b","c","d","e"]})", "stop"},
      {"{" + m + R"(,"stop":"a\u0000b"})", "stop"},  // the library takes C strings
      {"{" + m + R"(,"logit_bias":{"-1":1}})", "logit_bias"},
      {"{" + m + R"(,"logit_bias":{"1":"x"}})", "logit_bias.1"},
      {"{" + m + R"(,"stream_options":{"include_usage":true}})", "stream_options"},
      {"{" + m + R"(,"stream":true,"stream_options":{"include_usage":1}})", "stream_options.include_usage"},
      {"{" + m + R"(,"logprobs":true})", "logprobs"},
      {"{" + m + R"(,"tools":[]})", "tools"},
      {"{" + m + R"(,"response_format":{"type":"yaml"}})", "response_format.type"},
      {"{" + m + R"(,"model":5})", "model"},
      {R"({"messages":[]})", "messages"},
      {R"({"messages":[1]})", "messages[0]"},
      {R"({"messages":[{"content":"x"}]})", "messages[0].role"},
      {R"({"messages":[{"role":"user","content":5}]})", "messages[0].content"},
  };
  for (const auto& [body, param] : cases) EXPECT_EQ(ParseError(kChat, body).param, param) << body;
}

TEST(ServeRequest, RejectsBodiesThatAreNotObjects) {
  for (const char* body : {"", "[]", "1", "\"x\"", "{", "{\"messages\":[}", "null", "{\"a\":\"\xff\"}"}) {
    ParseError(kChat, body);
  }
}

TEST(ServeRequest, CheckSupportedRefusesWhatTheBackendLacks) {
  GenerationRequest r = ParseOk(kChat, R"({"messages":[{"role":"user","content":"x"}],"presence_penalty":1,
      "logit_bias":{"7":1},"response_format":{"type":"json_object"}})");
  ApiError e;
  BackendCapabilities none;
  EXPECT_FALSE(CheckSupported(r, none, &e));
  EXPECT_EQ(e.param, "presence_penalty");
  BackendCapabilities all{.penalties = true, .logit_bias = true, .n_vocab = 8};
  EXPECT_TRUE(CheckSupported(r, all, &e)) << e.message;
  all.n_vocab = 7;  // token 7 is out of range
  EXPECT_FALSE(CheckSupported(r, all, &e));
  EXPECT_EQ(e.param, "logit_bias");
}

}  // namespace
}  // namespace ember::server
