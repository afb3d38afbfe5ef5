// Valid by construction: grammar-constrained generation on every test model (the tiny
// random-weight ones are the most adversarial distribution there is; stories260K is a real
// one) at temperatures 0, 0.7 and 1.5 over many seeds. Every output that ends by grammar
// completion or EOS must be in the language: JSON outputs are parsed with nlohmann and
// checked by a validator written here for the schema used (independent of lib/grammar; the
// Python test tests/grammar/generate_validate_test.py re-checks with the jsonschema
// package), GBNF outputs are re-run through a fresh matcher. Since every grammar used has
// a bounded language, every run must end by completion or EOS well within the token limit.
#include <cctype>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/runtime/generator.h"
#include "lib/runtime/session.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace ember {
namespace {

using ember::testing::TestDataPath;

constexpr char kSchema[] = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 6},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 2}
  },
  "required": ["name", "age"],
  "additionalProperties": false
})";

// The schema above, checked by hand: no code shared with the engine under test.
bool ValidPerson(const nlohmann::json& v, std::string* why) {
  if (!v.is_object()) return *why = "not an object", false;
  for (const auto& [key, value] : v.items()) {
    if (key != "name" && key != "age" && key != "tags") return *why = "extra key " + key, false;
  }
  if (!v.contains("name") || !v.contains("age")) return *why = "missing a required key", false;
  const nlohmann::json& name = v["name"];
  if (!name.is_string()) return *why = "name not a string", false;
  // maxLength counts code points.
  size_t code_points = 0;
  for (unsigned char c : name.get<std::string>()) code_points += (c & 0xC0) != 0x80;
  if (code_points > 6) return *why = "name too long", false;
  const nlohmann::json& age = v["age"];
  if (!age.is_number_integer()) return *why = "age not an integer", false;
  if (age.get<int64_t>() < 0 || age.get<int64_t>() > 150) return *why = "age out of range", false;
  if (v.contains("tags")) {
    const nlohmann::json& tags = v["tags"];
    if (!tags.is_array() || tags.size() > 2) return *why = "tags not an array of at most 2", false;
    for (const nlohmann::json& t : tags) {
      if (t != "red" && t != "green" && t != "blue") return *why = "tag not in the enum", false;
    }
  }
  return true;
}

// A bounded GBNF language: a date, a colour and a small number.
constexpr char kGbnf[] = R"(root ::= date " " colour " #" num
date ::= [0-9]{4} "-" ("0" [1-9] | "1" [0-2]) "-" [0-2] [0-9]
colour ::= "red" | "green" | "blue" | "caf\u00e9"
num ::= [1-9] [0-9]? | "0"
)";


struct Outcome {
  std::string text;
  GenerateResult result;
};

class GrammarGenerationTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto m = Model::Load(TestDataPath(std::string("models/") + GetParam()), {});
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *std::move(m);
  }

  Outcome Generate(const std::shared_ptr<const grammar::Program>& program, float temperature, uint64_t seed,
                   int32_t max_tokens) {
    SessionOptions options;
    options.n_ctx = 512;
    options.sampler.temperature = temperature;
    options.sampler.seed = seed;
    options.sampler.grammar = program;
    auto s = Session::Create(*model_, options);
    EXPECT_TRUE(s.ok()) << s.status();
    Outcome out;
    if (!s.ok()) return out;
    GenerateOptions g;
    g.max_tokens = max_tokens;
    Generator gen(**s, g);
    const absl::Status st = gen.Run(
        "Answer:", EncodeOptions{},
        [&](int32_t, std::string_view text) {
          out.text.append(text);
          return false;
        },
        &out.result);
    EXPECT_TRUE(st.ok()) << st;
    return out;
  }

  std::unique_ptr<Model> model_;
};

std::shared_ptr<const grammar::Program> Compile(grammar::GrammarKind kind, std::string_view text) {
  auto p = grammar::CompileConstraint(kind, text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}

bool EndedComplete(const GenerateResult& r) {
  return r.stop_reason == StopReason::kGrammarComplete || r.stop_reason == StopReason::kEndOfGeneration;
}

constexpr float kTemperatures[] = {0.0f, 0.7f, 1.5f};
constexpr uint64_t kSeeds = 8;  // per temperature (greedy runs once: seeds do not matter)
constexpr int32_t kMaxTokens = 400;

TEST_P(GrammarGenerationTest, JsonSchemaOutputsValidate) {
  auto program = Compile(grammar::GrammarKind::kJsonSchema, kSchema);
  ASSERT_NE(program, nullptr);
  for (float t : kTemperatures) {
    for (uint64_t seed = 0; seed < (t == 0.0f ? 1 : kSeeds); ++seed) {
      const Outcome o = Generate(program, t, seed, kMaxTokens);
      SCOPED_TRACE(::testing::Message() << "temperature " << t << " seed " << seed << " text <" << o.text << ">");
      ASSERT_TRUE(EndedComplete(o.result)) << static_cast<int>(o.result.stop_reason);
      const nlohmann::json v = nlohmann::json::parse(o.text, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(v.is_discarded()) << "not JSON";
      std::string why;
      EXPECT_TRUE(ValidPerson(v, &why)) << why;
    }
  }
}

TEST_P(GrammarGenerationTest, JsonObjectModeGivesAnObject) {
  auto program = Compile(grammar::GrammarKind::kJsonObject, "");
  ASSERT_NE(program, nullptr);
  // Fewer and shorter runs: free-form strings make JSON mode's masks the slowest to compute
  // on random weights (every step lands in a new string state), and the point here is the
  // contract at the limit, which the bounded schemas above cover at scale.
  constexpr uint64_t kObjectSeeds = 3;
  constexpr int32_t kObjectTokens = 32;
  for (float t : kTemperatures) {
    for (uint64_t seed = 0; seed < (t == 0.0f ? 1 : kObjectSeeds); ++seed) {
      // Any JSON object is unbounded: outputs cut by the limit are prefixes, reported as such.
      const Outcome o = Generate(program, t, seed, kObjectTokens);
      SCOPED_TRACE(::testing::Message() << "temperature " << t << " seed " << seed << " text <" << o.text << ">");
      if (EndedComplete(o.result)) {
        const nlohmann::json v = nlohmann::json::parse(o.text, nullptr, false);
        ASSERT_FALSE(v.is_discarded()) << "not JSON";
        EXPECT_TRUE(v.is_object());
      } else {
        EXPECT_EQ(o.result.stop_reason, StopReason::kMaxTokens);
        EXPECT_EQ(o.result.n_generated, kObjectTokens);
        // A prefix of some object: a fresh matcher takes it.
        grammar::GrammarConstraint fresh(program, *model_->GrammarTrie());
        EXPECT_TRUE(fresh.AcceptBytes(o.text));
      }
    }
  }
}

TEST_P(GrammarGenerationTest, GbnfOutputsAreInTheLanguage) {
  auto program = Compile(grammar::GrammarKind::kGbnf, kGbnf);
  ASSERT_NE(program, nullptr);
  for (float t : kTemperatures) {
    for (uint64_t seed = 0; seed < (t == 0.0f ? 1 : kSeeds); ++seed) {
      const Outcome o = Generate(program, t, seed, kMaxTokens);
      SCOPED_TRACE(::testing::Message() << "temperature " << t << " seed " << seed << " text <" << o.text << ">");
      ASSERT_TRUE(EndedComplete(o.result)) << static_cast<int>(o.result.stop_reason);
      grammar::GrammarConstraint fresh(program, *model_->GrammarTrie());
      ASSERT_TRUE(fresh.AcceptBytes(o.text));
      EXPECT_TRUE(fresh.IsComplete());
    }
  }
}

TEST_P(GrammarGenerationTest, TruncatedOutputIsLengthNeverComplete) {
  auto program = Compile(grammar::GrammarKind::kJsonSchema, kSchema);
  ASSERT_NE(program, nullptr);
  // `{"name":"","age":0}` needs more than 3 tokens on any of these vocabularies.
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const Outcome o = Generate(program, 1.5f, seed, 3);
    EXPECT_EQ(o.result.stop_reason, StopReason::kMaxTokens) << o.text;
    EXPECT_EQ(o.result.n_generated, 3);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GrammarGenerationTest,
                         ::testing::Values("stories260K.gguf", "tiny-llama2", "tiny-mistral", "tiny-phi2"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           std::string out;
                           for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return out;
                         });

}  // namespace
}  // namespace ember
