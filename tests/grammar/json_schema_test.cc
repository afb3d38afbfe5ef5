// JSON Schema -> grammar, keyword by keyword: valid instances are complete sentences, invalid
// ones are not; unsupported keywords fail naming the keyword and its JSON pointer.
#include <cstdio>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "lib/grammar/grammar_constraint.h"

namespace ember::grammar {
namespace {

std::shared_ptr<const Program> Schema(const std::string& schema) {
  auto p = CompileConstraint(GrammarKind::kJsonSchema, schema);
  EXPECT_TRUE(p.ok()) << schema << ": " << p.status();
  return p.ok() ? *p : nullptr;
}

std::string SchemaError(const std::string& schema) {
  auto p = CompileConstraint(GrammarKind::kJsonSchema, schema);
  EXPECT_FALSE(p.ok()) << schema;
  return p.ok() ? "" : std::string(p.status().message());
}

bool Valid(const std::shared_ptr<const Program>& p, const std::string& text) {
  if (!p) return false;
  Matcher m(p);
  const int32_t s = m.StepBytes(m.initial(), text);
  return s != Matcher::kDead && m.IsAccepting(s);
}

TEST(JsonSchema, Types) {
  auto p = Schema(R"({"type":["string","null","boolean"]})");
  EXPECT_TRUE(Valid(p, R"("x")"));
  EXPECT_TRUE(Valid(p, "null"));
  EXPECT_TRUE(Valid(p, "false"));
  EXPECT_FALSE(Valid(p, "1"));
  auto i = Schema(R"({"type":"integer"})");
  EXPECT_TRUE(Valid(i, "-12"));
  EXPECT_FALSE(Valid(i, "1.5"));
  EXPECT_FALSE(Valid(i, "012"));
  auto n = Schema(R"({"type":"number"})");
  for (const char* ok : {"0", "-0.5", "1e10", "2.5E-3", "10"}) EXPECT_TRUE(Valid(n, ok)) << ok;
  for (const char* bad : {"01", ".5", "1.", "+1", "1e", "NaN"}) EXPECT_FALSE(Valid(n, bad)) << bad;
  auto any = Schema("{}");
  EXPECT_TRUE(Valid(any, R"({"a":[1,{"b":null}],"c":"\u00e9\n"})"));
  EXPECT_FALSE(Valid(any, R"({"a":1,})"));
  EXPECT_FALSE(Valid(any, R"({"a" 1})"));
  EXPECT_FALSE(Valid(Schema("true"), "[1,]"));
}

TEST(JsonSchema, PropertiesInOrderRequiredAndOptional) {
  auto p = Schema(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
                      "required":["b"],"additionalProperties":false})");
  EXPECT_TRUE(Valid(p, R"({"b":"x"})"));
  EXPECT_TRUE(Valid(p, R"({"a":1,"b":"x","c":true})"));
  EXPECT_TRUE(Valid(p, R"({"a":1,"b":"x"})"));
  EXPECT_TRUE(Valid(p, R"({ "a": 1, "b": "x" })"));
  EXPECT_FALSE(Valid(p, R"({"a":1})"));            // b required
  EXPECT_FALSE(Valid(p, R"({"b":"x","d":1})"));    // additionalProperties: false
  EXPECT_FALSE(Valid(p, R"({"a":"1","b":"x"})"));  // a is an integer
  EXPECT_FALSE(Valid(p, R"({"b":"x",})"));
  EXPECT_FALSE(Valid(p, R"({,"b":"x"})"));
}

TEST(JsonSchema, AdditionalPropertiesAbsentOrSchema) {
  auto open = Schema(R"({"type":"object","properties":{"a":{"type":"integer"}}})");
  EXPECT_TRUE(Valid(open, R"({"a":1,"zz":[true]})"));
  EXPECT_TRUE(Valid(open, R"({"zz":"q","ab":1})"));
  // A declared name spelled as an additional property would dodge its schema.
  EXPECT_FALSE(Valid(open, R"({"a":1,"a":"str"})"));
  EXPECT_FALSE(Valid(open, R"({"x":1,"a":"str"})"));
  auto typed = Schema(R"({"type":"object","additionalProperties":{"type":"number"}})");
  EXPECT_TRUE(Valid(typed, R"({"x":1,"y":2.5})"));
  EXPECT_FALSE(Valid(typed, R"({"x":"1"})"));
  auto required_extra = Schema(R"({"type":"object","required":["k"],"additionalProperties":{"type":"integer"}})");
  EXPECT_TRUE(Valid(required_extra, R"({"k":3})"));
  EXPECT_FALSE(Valid(required_extra, R"({})"));
}

TEST(JsonSchema, EnumAndConst) {
  auto p = Schema(R"({"enum":["red","gr\"een",1,null,{"a":[1]}]})");
  for (const char* ok : {R"("red")", R"("gr\"een")", "1", "1.0", "null", R"({"a":[1]})"}) EXPECT_TRUE(Valid(p, ok)) << ok;
  for (const char* bad : {R"("blue")", "2", "true", R"({"a":[2]})"}) EXPECT_FALSE(Valid(p, bad)) << bad;
  auto c = Schema(R"({"const":"x"})");
  EXPECT_TRUE(Valid(c, R"("x")"));
  EXPECT_FALSE(Valid(c, R"("y")"));
  auto typed = Schema(R"({"type":"string","enum":["a",1]})");
  EXPECT_FALSE(Valid(typed, "1"));
}

TEST(JsonSchema, Arrays) {
  auto p = Schema(R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3})");
  EXPECT_FALSE(Valid(p, "[1]"));
  EXPECT_TRUE(Valid(p, "[1,2]"));
  EXPECT_TRUE(Valid(p, "[1, 2, 3]"));
  EXPECT_FALSE(Valid(p, "[1,2,3,4]"));
  EXPECT_FALSE(Valid(p, "[1,\"2\"]"));
  auto tuple = Schema(R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false})");
  EXPECT_TRUE(Valid(tuple, R"(["a",1])"));
  EXPECT_TRUE(Valid(tuple, R"(["a"])"));
  EXPECT_TRUE(Valid(tuple, "[]"));
  EXPECT_FALSE(Valid(tuple, R"(["a",1,2])"));
  EXPECT_FALSE(Valid(tuple, R"([1])"));
  auto draft4 = Schema(R"({"type":"array","items":[{"type":"null"}],"additionalItems":{"type":"boolean"},"minItems":1})");
  EXPECT_TRUE(Valid(draft4, "[null,true,false]"));
  EXPECT_FALSE(Valid(draft4, "[null,1]"));
  EXPECT_FALSE(Valid(draft4, "[]"));
  EXPECT_NE(SchemaError(R"({"type":"array","uniqueItems":true})").find("'#/uniqueItems'"), std::string::npos);
}

TEST(JsonSchema, StringLengthCountsCharactersNotBytesOrEscapes) {
  auto p = Schema(R"({"type":"string","minLength":2,"maxLength":3})");
  EXPECT_FALSE(Valid(p, R"("a")"));
  EXPECT_TRUE(Valid(p, R"("ab")"));
  EXPECT_TRUE(Valid(p, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\""));  // 3 characters, 9 bytes
  EXPECT_TRUE(Valid(p, R"("\n\u00e9")"));
  EXPECT_FALSE(Valid(p, R"("abcd")"));
  EXPECT_FALSE(Valid(p, "\"a\x01\""));  // raw control character
}

// Found by tests/grammar/schema_property_test.py: an astral character spelled as a \u
// surrogate pair is one character (it used to count as two, so "\ud83d\ude00" passed
// minLength 2 and failed maxLength 1); a lone surrogate escape is no character.
TEST(JsonSchema, StringLengthCountsASurrogatePairAsOneCharacter) {
  auto min2 = Schema(R"({"type":"string","minLength":2})");
  EXPECT_FALSE(Valid(min2, R"("\ud83d\ude00")"));
  EXPECT_TRUE(Valid(min2, R"("\ud83d\ude00\uD83C\uDF89")"));
  auto max1 = Schema(R"({"type":"string","maxLength":1})");
  EXPECT_TRUE(Valid(max1, R"("\ud83d\ude00")"));
  EXPECT_TRUE(Valid(max1, R"("\uDBFF\uDFFD")"));  // U+10FFFD
  EXPECT_FALSE(Valid(max1, R"("\ud800")"));
  EXPECT_FALSE(Valid(max1, R"("\ude00")"));
  EXPECT_FALSE(Valid(Schema(R"({"type":"string"})"), R"("\ud83d")"));
}

// Found by tests/grammar/schema_property_test.py: a character may be spelled as a \u
// escape (any hex case) wherever it may appear itself: in patterns, formats, property names
// and enum/const strings (json.dumps writes every non-ASCII character that way).
TEST(JsonSchema, UnicodeEscapesSpellTheirCharacterEverywhere) {
  auto pattern = Schema(R"({"type":"string","pattern":"^[é😀]+x$"})");
  EXPECT_TRUE(Valid(pattern, R"("\u00e9\u00E9\ud83d\ude00\u0078")"));
  EXPECT_TRUE(Valid(pattern, "\"\xC3\xA9x\""));
  EXPECT_FALSE(Valid(pattern, R"("\u00e8x")"));
  EXPECT_FALSE(Valid(pattern, R"("\ud83d\ude01x")"));
  auto email = Schema(R"({"type":"string","format":"email"})");
  EXPECT_TRUE(Valid(email, R"("\u00e9@b.c")"));
  EXPECT_FALSE(Valid(email, R"("a\u0040b@c.d")"));  // a second '@'
  auto closed = Schema(R"({"type":"object","properties":{"é":{"type":"integer"},"a/b":{"type":"null"}},
                          "additionalProperties":false})");
  EXPECT_TRUE(Valid(closed, R"({"\u00e9":1,"a\/b":null})"));
  EXPECT_FALSE(Valid(closed, R"({"\u00e8":1})"));
  auto open = Schema(R"({"type":"object","properties":{"a":{"type":"integer"}}})");
  EXPECT_TRUE(Valid(open, R"({"\u0062":"x"})"));
  EXPECT_FALSE(Valid(open, R"({"\u0061":"x"})"));  // "a" under another spelling keeps its schema
  auto e = Schema(R"({"enum":["é😀\n",{"k":[1,"x"]}]})");
  EXPECT_TRUE(Valid(e, R"("\u00e9\ud83d\ude00\u000a")"));
  EXPECT_TRUE(Valid(e, R"({ "\u006b" : [ 1.0 , "x" ] })"));
  EXPECT_FALSE(Valid(e, R"({"k":[1,"y"]})"));
}

// An enum/const number is a value, whatever its spelling: an integral double also as all
// its digits (nlohmann reads 100000000000000000000 as the double 1e+20).
TEST(JsonSchema, EnumNumbersMatchEverySpellingOfTheirValue) {
  auto big = Schema(R"({"const":1e20})");
  EXPECT_TRUE(Valid(big, "100000000000000000000"));
  EXPECT_TRUE(Valid(big, "1e+20"));
  EXPECT_TRUE(Valid(big, "100000000000000000000.0"));
  EXPECT_FALSE(Valid(big, "100000000000000000001"));
  auto e = Schema(R"({"enum":[3,-0.25,2.0]})");
  for (const char* ok : {"3", "3.0", "-0.25", "2", "2.00"}) EXPECT_TRUE(Valid(e, ok)) << ok;
  for (const char* bad : {"3.5", "-0.2", "0.25", "20"}) EXPECT_FALSE(Valid(e, bad)) << bad;
  // "type": "integer" keeps the integer spelling (see json_schema.h).
  EXPECT_FALSE(Valid(Schema(R"({"type":"integer"})"), "5.0"));
}

TEST(JsonSchema, IntegerRangesAgreeWithArithmetic) {
  const std::optional<int64_t> none;
  const std::vector<std::pair<std::optional<int64_t>, std::optional<int64_t>>> cases = {
      {0, 150}, {1, none}, {none, -3}, {-17, 4}, {-250, -99}, {7, 7}, {none, 0}, {100, 1005}, {-1000, 999}};
  for (const auto& [lo, hi] : cases) {
    std::string schema = R"({"type":"integer")";
    if (lo) schema += ",\"minimum\":" + std::to_string(*lo);
    if (hi) schema += ",\"maximum\":" + std::to_string(*hi);
    auto p = Schema(schema + "}");
    for (int n = -1100; n <= 1100; ++n) {
      const bool in = (!lo || n >= *lo) && (!hi || n <= *hi);
      ASSERT_EQ(Valid(p, std::to_string(n)), in) << schema << " n=" << n;
    }
  }
  auto excl = Schema(R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10})");
  EXPECT_FALSE(Valid(excl, "0"));
  EXPECT_TRUE(Valid(excl, "1"));
  EXPECT_FALSE(Valid(excl, "10"));
}

TEST(JsonSchema, NumberRanges) {
  auto p = Schema(R"({"type":"number","minimum":-2,"exclusiveMaximum":3})");
  for (const char* ok : {"-2", "-2.0", "-1.99", "0", "2.999", "-0.5"}) EXPECT_TRUE(Valid(p, ok)) << ok;
  for (const char* bad : {"-2.01", "3", "3.0", "3.5", "-3", "1e2"}) EXPECT_FALSE(Valid(p, bad)) << bad;
  auto d4 = Schema(R"({"type":"number","minimum":0,"exclusiveMinimum":true})");
  EXPECT_FALSE(Valid(d4, "0"));
  EXPECT_FALSE(Valid(d4, "0.00"));
  EXPECT_TRUE(Valid(d4, "0.01"));
  EXPECT_NE(SchemaError(R"({"type":"number","minimum":0.5})").find("minimum"), std::string::npos);
}

TEST(JsonSchema, PatternsAreSearchesUnlessAnchored) {
  auto anchored = Schema(R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"})");
  EXPECT_TRUE(Valid(anchored, R"("AB-123")"));
  EXPECT_FALSE(Valid(anchored, R"("xAB-123")"));
  auto search = Schema(R"({"type":"string","pattern":"ab+c"})");
  EXPECT_TRUE(Valid(search, R"("xxabbbcyy")"));
  EXPECT_FALSE(Valid(search, R"("ac")"));
  auto escapes = Schema(R"({"type":"string","pattern":"^[^\"]*\"$"})");
  EXPECT_TRUE(Valid(escapes, R"("say \"")"));
  EXPECT_NE(SchemaError(R"j({"type":"string","pattern":"(?=a)"})j").find("#/pattern"), std::string::npos);
  EXPECT_NE(SchemaError(R"({"type":"string","pattern":"\\bword"})").find("\\b"), std::string::npos);
}

TEST(JsonSchema, Formats) {
  auto date = Schema(R"({"type":"string","format":"date"})");
  for (const char* ok : {"2024-02-29", "2000-02-29", "1999-12-31", "0001-01-01"}) EXPECT_TRUE(Valid(date, std::string("\"") + ok + "\"")) << ok;
  for (const char* bad : {"2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "0000-01-01", "2024-1-01"}) {
    EXPECT_FALSE(Valid(date, std::string("\"") + bad + "\"")) << bad;
  }
  auto dt = Schema(R"({"type":"string","format":"date-time"})");
  EXPECT_TRUE(Valid(dt, R"("2024-05-06T07:08:09.123+02:00")"));
  EXPECT_TRUE(Valid(dt, R"("2024-05-06T07:08:09Z")"));
  EXPECT_FALSE(Valid(dt, R"("2024-05-06T24:00:00Z")"));
  EXPECT_FALSE(Valid(dt, R"("2024-05-06T07:08:09")"));
  auto uuid = Schema(R"({"type":"string","format":"uuid"})");
  EXPECT_TRUE(Valid(uuid, R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(Valid(uuid, R"("123e4567e89b12d3a456426614174000")"));
  auto email = Schema(R"({"type":"string","format":"email"})");
  EXPECT_TRUE(Valid(email, R"("a.b@example.org")"));
  EXPECT_FALSE(Valid(email, R"("example.org")"));
  EXPECT_NE(SchemaError(R"({"type":"string","format":"uri"})").find("uri"), std::string::npos);
  // Formats JSON Schema does not define are annotations.
  EXPECT_TRUE(Valid(Schema(R"({"type":"integer","format":"int64"})"), "5"));
}

TEST(JsonSchema, Combinators) {
  auto any = Schema(R"({"anyOf":[{"type":"string","maxLength":1},{"type":"integer","minimum":5}]})");
  EXPECT_TRUE(Valid(any, R"("a")"));
  EXPECT_TRUE(Valid(any, "7"));
  EXPECT_FALSE(Valid(any, "4"));
  auto one = Schema(R"({"oneOf":[{"type":"string"},{"type":"null"}]})");
  EXPECT_TRUE(Valid(one, "null"));
  auto tagged = Schema(R"({"oneOf":[
      {"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind"]},
      {"type":"object","properties":{"kind":{"const":"b"},"y":{"type":"string"}},"required":["kind"]}]})");
  EXPECT_TRUE(Valid(tagged, R"({"kind":"b","y":"q"})"));
  EXPECT_FALSE(Valid(tagged, R"({"kind":"c"})"));
  EXPECT_NE(SchemaError(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})").find("oneOf"), std::string::npos);
  auto all = Schema(R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
                                 {"properties":{"a":{},"b":{"type":"string"}},"required":["b"],"additionalProperties":false}]})");
  EXPECT_TRUE(Valid(all, R"({"a":1,"b":"x"})"));
  EXPECT_FALSE(Valid(all, R"({"a":1})"));
  EXPECT_FALSE(Valid(all, R"({"a":1,"b":"x","c":2})"));
  // "a" is additional for the second branch, which forbids it: the allOf has no instance.
  auto closed = Schema(R"({"anyOf":[{"allOf":[{"properties":{"a":{"type":"integer"}},"required":["a"]},
                                              {"properties":{"b":{}},"additionalProperties":false}]},{"type":"null"}]})");
  EXPECT_FALSE(Valid(closed, R"({"a":1})"));
  EXPECT_TRUE(Valid(closed, "null"));
}

TEST(JsonSchema, References) {
  auto p = Schema(R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#/$defs/node"}},
                      "required":["v"],"additionalProperties":false}},"$ref":"#/$defs/node"})");
  EXPECT_TRUE(Valid(p, R"({"v":1,"next":{"v":2,"next":{"v":3}}})"));
  EXPECT_FALSE(Valid(p, R"({"v":1,"next":{"w":2}})"));
  auto d = Schema(R"({"definitions":{"s":{"type":"string"}},"type":"array","items":{"$ref":"#/definitions/s"}})");
  EXPECT_TRUE(Valid(d, R"(["a","b"])"));
  EXPECT_FALSE(Valid(d, R"([1])"));
  auto root = Schema(R"({"type":"array","items":{"$ref":"#"}})");
  EXPECT_TRUE(Valid(root, "[[],[[]]]"));
  EXPECT_NE(SchemaError(R"({"$ref":"#"})").find("matches nothing"), std::string::npos);
  EXPECT_NE(SchemaError(R"({"$ref":"#/$defs/missing"})").find("points nowhere"), std::string::npos);
  EXPECT_NE(SchemaError(R"({"$ref":"other.json#/a"})").find("not a local reference"), std::string::npos);
}

TEST(JsonSchema, UnsupportedKeywordsNameThemselvesAndTheirPointer) {
  EXPECT_NE(SchemaError(R"({"type":"object","properties":{"a":{"not":{"type":"string"}}}})").find("'#/properties/a/not'"),
            std::string::npos);
  for (const char* kw : {"patternProperties", "dependencies", "minProperties", "if", "multipleOf", "contains"}) {
    EXPECT_NE(SchemaError(std::string(R"({")") + kw + R"(":{}})").find(kw), std::string::npos) << kw;
  }
  // Annotations and vendor keywords are ignored.
  EXPECT_TRUE(Valid(Schema(R"({"title":"t","description":"d","default":1,"examples":[1],"$schema":"x","$id":"y",
                              "x-vendor":{"not":1},"type":"integer"})"), "3"));
}

TEST(JsonSchema, HostileSchemasFailCleanly) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += R"({"items":)";
  deep += "{}";
  for (int i = 0; i < 5000; ++i) deep += "}";
  EXPECT_NE(SchemaError(deep).find("nested deeper"), std::string::npos);
  EXPECT_NE(SchemaError(R"({"type":"string","minLength":1000000000})").find("limit"), std::string::npos);
  EXPECT_TRUE(CompileConstraint(GrammarKind::kJsonSchema, R"({"type":"string","maxLength":1000000000})").ok());
  EXPECT_NE(SchemaError(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})").find("matches nothing"),
            std::string::npos);
  EXPECT_NE(SchemaError(R"({"allOf":[{"$ref":"#"}]})").find("$ref"), std::string::npos);
  EXPECT_NE(SchemaError("false").find("matches nothing"), std::string::npos);
  EXPECT_NE(SchemaError("{\"type\":").find("not valid JSON"), std::string::npos);
}

TEST(JsonSchema, JsonModeAndBoundedWhitespace) {
  auto p = CompileConstraint(GrammarKind::kJsonObject, "");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(Valid(*p, R"({"a":[1,2,{"b":null}]})"));
  EXPECT_TRUE(Valid(*p, "{\n  \"a\": 1\n}"));
  EXPECT_FALSE(Valid(*p, "[1]"));
  EXPECT_FALSE(Valid(*p, "\"s\""));
  EXPECT_FALSE(Valid(*p, "{\"a\":" + std::string(100, ' ') + "1}"));
  Matcher m(*p);
  EXPECT_EQ(m.StepBytes(m.initial(), "{" + std::string(40, '\n')), Matcher::kDead);
}

}  // namespace
}  // namespace ember::grammar
