// Malformed tokenizer.json and GGUF vocabularies: each must give InvalidModelError (or
// UnsupportedError for options ember does not implement) naming the field, never a crash.
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "tests/support/test_support.h"
#include "tests/tokenizer/bpe_test_vocab.h"

namespace ember {
namespace {

using ::ember::testing::Gpt2FromGgufBytes;
using ::ember::testing::Gpt2FromJson;
using ::ember::testing::Symbols;
using ::ember::testing::TinyGgufBytes;
using ::ember::testing::TinyTokenizerJson;
using ::ember::testing::TinyVocab;
using ::testing::HasSubstr;
using json = nlohmann::json;

TinyVocab Vocab() {
  TinyVocab v;
  v.extra = {"ab"};
  v.merges = {{"a", "b"}};
  v.added = {{"<|endoftext|>", true, false}, {"  ", false, true}};
  return v;
}

struct JsonCase {
  const char* name;
  std::function<void(json&)> edit;
  absl::StatusCode code;
  const char* message;  // must appear in the error
};

TEST(BpeHostileJson, EachDefectIsNamed) {
  const auto invalid = absl::StatusCode::kDataLoss;       // InvalidModelError
  const auto unsupported = absl::StatusCode::kUnimplemented;  // UnsupportedError
  const std::vector<JsonCase> cases = {
      {"root not object", [](json& j) { j = json::array(); }, invalid, "not a JSON object"},
      {"no model", [](json& j) { j.erase("model"); }, invalid, "model"},
      {"model is string", [](json& j) { j["model"] = "BPE"; }, invalid, "model"},
      {"model type", [](json& j) { j["model"]["type"] = "Unigram"; }, unsupported, "model.type"},
      {"no vocab", [](json& j) { j["model"].erase("vocab"); }, invalid, "model.vocab"},
      {"vocab array", [](json& j) { j["model"]["vocab"] = json::array(); }, invalid, "model.vocab"},
      {"vocab empty", [](json& j) { j["model"]["vocab"] = json::object(); }, invalid, "model.vocab"},
      {"id string", [](json& j) { j["model"]["vocab"]["a"] = "97"; }, invalid, "model.vocab['a']"},
      {"id negative", [](json& j) { j["model"]["vocab"]["a"] = -1; }, invalid, "model.vocab['a']"},
      {"id float", [](json& j) { j["model"]["vocab"]["a"] = 97.5; }, invalid, "model.vocab['a']"},
      {"id huge", [](json& j) { j["model"]["vocab"]["a"] = 1ull << 40; }, invalid, "model.vocab['a']"},
      {"id null", [](json& j) { j["model"]["vocab"]["a"] = nullptr; }, invalid, "model.vocab['a']"},
      {"duplicate id", [](json& j) { j["model"]["vocab"]["zz"] = 97; }, invalid, "id 97 is used by both"},
      {"id gap", [](json& j) { j["model"]["vocab"]["zz"] = 5000; }, invalid, "no token has id"},
      {"byte missing",
       [](json& j) {
         j["model"]["vocab"].erase("a");
         j["model"]["vocab"]["zz"] = 97;
       },
       invalid, "model.vocab has no token for byte 0x61"},
      {"no merges", [](json& j) { j["model"].erase("merges"); }, invalid, "model.merges"},
      {"merges object", [](json& j) { j["model"]["merges"] = json::object(); }, invalid, "model.merges"},
      {"merge number", [](json& j) { j["model"]["merges"][0] = 5; }, invalid, "model.merges[0]"},
      {"merge no space", [](json& j) { j["model"]["merges"][0] = "ab"; }, invalid, "model.merges[0]"},
      {"merge 3 parts", [](json& j) { j["model"]["merges"][0] = "a b c"; }, invalid, "model.merges[0]"},
      {"merge pair of 3", [](json& j) { j["model"]["merges"][0] = {"a", "b", "c"}; }, invalid, "model.merges[0]"},
      {"merge pair ints", [](json& j) { j["model"]["merges"][0] = {1, 2}; }, invalid, "model.merges[0]"},
      {"merge unknown", [](json& j) { j["model"]["merges"].push_back("ab ab"); }, invalid,
       "model.merges[1]: the merged token 'abab' is not a token"},
      {"merge unknown part", [](json& j) { j["model"]["merges"].push_back("abc d"); }, invalid,
       "model.merges[1]: 'abc' is not a token"},
      {"added not array", [](json& j) { j["added_tokens"] = json::object(); }, invalid, "added_tokens"},
      {"added not object", [](json& j) { j["added_tokens"][0] = 3; }, invalid, "added_tokens[0]"},
      {"added id missing", [](json& j) { j["added_tokens"][0].erase("id"); }, invalid, "added_tokens[0].id"},
      {"added id string", [](json& j) { j["added_tokens"][0]["id"] = "257"; }, invalid, "added_tokens[0].id"},
      {"added content", [](json& j) { j["added_tokens"][1]["content"] = 7; }, invalid, "added_tokens[1].content"},
      {"added empty", [](json& j) { j["added_tokens"][1]["content"] = ""; }, invalid, "added_tokens[1].content"},
      {"added special type", [](json& j) { j["added_tokens"][0]["special"] = "yes"; }, invalid,
       "added_tokens[0].special"},
      {"added dup id", [](json& j) { j["added_tokens"][1]["id"] = 257; }, invalid, "added_tokens[1]"},
      {"added clashes vocab", [](json& j) { j["added_tokens"][1]["id"] = 97; }, invalid,
       "added_tokens[1]: id 97 is 'a' in model.vocab"},
      {"added content elsewhere", [](json& j) { j["added_tokens"][1]["content"] = "a"; }, invalid,
       "added_tokens[1]: 'a' has id 97"},
      {"lstrip", [](json& j) { j["added_tokens"][0]["lstrip"] = true; }, unsupported, "added_tokens[0].lstrip"},
      {"normalizer", [](json& j) { j["normalizer"] = {{"type", "NFC"}}; }, unsupported, "normalizer"},
      {"pre-tokenizer", [](json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}}; }, unsupported, "pre_tokenizer"},
      {"pre-tokenizer missing", [](json& j) { j.erase("pre_tokenizer"); }, unsupported, "pre_tokenizer"},
      {"no regex", [](json& j) { j["pre_tokenizer"]["use_regex"] = false; }, unsupported, "use_regex"},
      {"prefix space type", [](json& j) { j["pre_tokenizer"]["add_prefix_space"] = 1; }, invalid,
       "pre_tokenizer.add_prefix_space"},
      {"decoder", [](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }, unsupported, "decoder"},
      {"dropout", [](json& j) { j["model"]["dropout"] = 0.1; }, unsupported, "model.dropout"},
      {"suffix", [](json& j) { j["model"]["end_of_word_suffix"] = "</w>"; }, unsupported, "end_of_word_suffix"},
      {"byte fallback", [](json& j) { j["model"]["byte_fallback"] = true; }, unsupported, "byte_fallback"},
  };
  for (const JsonCase& c : cases) {
    json j = TinyTokenizerJson(Vocab());
    c.edit(j);
    auto t = Gpt2FromJson(j);
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_EQ(t.status().code(), c.code) << c.name << ": " << t.status();
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(c.message)) << c.name;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("tiny/tokenizer.json")) << c.name;
  }
  // The unedited file loads, and the array form of merges is accepted too.
  json j = TinyTokenizerJson(Vocab());
  EXPECT_TRUE(Gpt2FromJson(j).ok());
  j["model"]["merges"][0] = {"a", "b"};
  EXPECT_TRUE(Gpt2FromJson(j).ok());
}

TEST(BpeHostileJson, BadFilesThroughTheFactory) {
  for (const std::string& text : {std::string(""), std::string("{"), std::string("\xFF\xFE"),
                                  std::string("[1,2]"), std::string("{\"model\": 5}"),
                                  std::string("{\"model\": {\"type\": \"BPE\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")}) {
    const std::string path = ::ember::testing::WriteTempFile("tokenizer.json", text);
    const std::string dir = std::filesystem::path(path).parent_path().string();  // '\\' separates on Windows
    auto t = TokenizerFromHfDir(dir);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss) << t.status();
  }
}

// Random structural damage: values replaced by other JSON types at random places. Loading
// must succeed or fail cleanly; a loaded tokenizer must encode and decode without error.
TEST(BpeHostileJson, RandomMutationsNeverCrash) {
  std::mt19937 rng(1234);
  const std::vector<json> replacements = {nullptr, true, -1, 3, 1e300, "", "a b", "ab",
                                          json::array(), json::object(), {1, 2}, {"a", "b"}};
  int loaded = 0;
  for (int iter = 0; iter < 300; ++iter) {
    json j = TinyTokenizerJson(Vocab());
    for (int k = 0, n = 1 + rng() % 3; k < n; ++k) {
      // Walk down a random path and replace what is there.
      json* node = &j;
      for (int depth = 0; depth < 4 && (node->is_object() || node->is_array()) && !node->empty();
           ++depth) {
        if (rng() % 3 == 0) break;
        auto it = node->begin();
        std::advance(it, rng() % node->size());
        node = &*it;
      }
      *node = replacements[rng() % replacements.size()];
    }
    auto t = Gpt2FromJson(j);
    if (!t.ok()) {
      EXPECT_NE(t.status().code(), absl::StatusCode::kInternal) << t.status();
      continue;
    }
    ++loaded;
    std::vector<int32_t> ids;
    ASSERT_TRUE((*t)->Encode("ab <|endoftext|>  x", {.add_bos = false, .parse_special = true}, &ids).ok());
    std::string text;
    ASSERT_TRUE((*t)->Decode(ids, false, &text).ok());
  }
  EXPECT_GT(loaded, 0);
}

struct GgufCase {
  const char* name;
  std::function<void(GgufWriter&)> keys;  // written instead of the standard tokenizer keys
  absl::StatusCode code;
  const char* message;
};

std::vector<std::string> ByteTokens() {
  std::vector<std::string> t;
  for (int b = 0; b < 256; ++b) t.push_back(Symbols(std::string(1, static_cast<char>(b))));
  return t;
}

TEST(BpeHostileGguf, EachDefectIsNamed) {
  const auto invalid = absl::StatusCode::kDataLoss;
  const auto unsupported = absl::StatusCode::kUnimplemented;
  const std::vector<std::string> tokens = ByteTokens();
  auto base = [&](GgufWriter& w, bool with_merges = true) {
    w.AddString("tokenizer.ggml.model", "gpt2");
    w.AddStringArray("tokenizer.ggml.tokens", tokens);
    if (with_merges) w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{});
  };
  const std::vector<GgufCase> cases = {
      {"no model", [](GgufWriter&) {}, unsupported, "tokenizer.ggml.model"},
      {"llama model", [](GgufWriter& w) { w.AddString("tokenizer.ggml.model", "llama"); }, unsupported,
       "tokenizer.ggml.model"},
      {"pre", [&](GgufWriter& w) { base(w); w.AddString("tokenizer.ggml.pre", "llama3"); }, unsupported,
       "tokenizer.ggml.pre 'llama3'"},
      {"no tokens", [](GgufWriter& w) { w.AddString("tokenizer.ggml.model", "gpt2"); }, invalid,
       "tokenizer.ggml.tokens"},
      {"tokens wrong type",
       [](GgufWriter& w) {
         w.AddString("tokenizer.ggml.model", "gpt2");
         w.AddInt32Array("tokenizer.ggml.tokens", std::vector<int32_t>{1, 2});
       },
       invalid, "tokenizer.ggml.tokens"},
      {"type count",
       [&](GgufWriter& w) { base(w); w.AddInt32Array("tokenizer.ggml.token_type", std::vector<int32_t>{1}); },
       invalid, "tokenizer.ggml.token_type has 1 entries"},
      {"no merges", [&](GgufWriter& w) { base(w, false); }, invalid, "tokenizer.ggml.merges"},
      {"merge format",
       [&](GgufWriter& w) {
         base(w, false);
         w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{"ab"});
       },
       invalid, "tokenizer.ggml.merges[0]"},
      {"merge unknown",
       [&](GgufWriter& w) {
         base(w, false);
         w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{"a b"});
       },
       invalid, "tokenizer.ggml.merges[0]: the merged token 'ab' is not a token"},
      {"duplicate token",
       [&](GgufWriter& w) {
         w.AddString("tokenizer.ggml.model", "gpt2");
         auto t = tokens;
         t.push_back("a");
         w.AddStringArray("tokenizer.ggml.tokens", t);
         w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{});
       },
       invalid, "tokenizer.ggml.tokens[256] 'a' repeats token 97"},
      {"byte missing",
       [&](GgufWriter& w) {
         w.AddString("tokenizer.ggml.model", "gpt2");
         auto t = tokens;
         t[65] = "zz";
         w.AddStringArray("tokenizer.ggml.tokens", t);
         w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{});
       },
       invalid, "no token for byte 0x41"},
      {"bos range", [&](GgufWriter& w) { base(w); w.AddUint32("tokenizer.ggml.bos_token_id", 256); },
       invalid, "tokenizer.ggml.bos_token_id"},
      {"eos type", [&](GgufWriter& w) { base(w); w.AddString("tokenizer.ggml.eos_token_id", "x"); },
       invalid, "tokenizer.ggml.eos_token_id"},
  };
  for (const GgufCase& c : cases) {
    const std::string bytes = TinyGgufBytes(TinyVocab{}, c.keys, /*standard_keys=*/false);
    ASSERT_FALSE(bytes.empty()) << c.name;
    auto t = Gpt2FromGgufBytes(bytes);
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_EQ(t.status().code(), c.code) << c.name << ": " << t.status();
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(c.message)) << c.name << ": " << t.status();
  }
  // The minimal valid file: 256 byte tokens, no merges.
  const std::string ok = TinyGgufBytes(TinyVocab{}, [&](GgufWriter& w) { base(w); }, false);
  auto t = Gpt2FromGgufBytes(ok);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->bos(), -1);
}

TEST(BpeHostileGguf, OddTokenTypesAndEmptyTokens) {
  // Unknown type values and empty token texts load (as llama.cpp does) and stay inert.
  std::vector<std::string> tokens = ByteTokens();
  tokens.push_back("");
  tokens.push_back("zz");
  std::vector<int32_t> types(tokens.size(), 1);
  types[256] = 4;  // an empty USER_DEFINED token must not match everywhere
  types[257] = 99;
  const std::string bytes = TinyGgufBytes(
      TinyVocab{},
      [&](GgufWriter& w) {
        w.AddString("tokenizer.ggml.model", "gpt2");
        w.AddStringArray("tokenizer.ggml.tokens", tokens);
        w.AddInt32Array("tokenizer.ggml.token_type", types);
        w.AddStringArray("tokenizer.ggml.merges", std::vector<std::string>{});
      },
      false);
  auto t = Gpt2FromGgufBytes(bytes);
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<int32_t> ids;
  ASSERT_TRUE((*t)->Encode("zz", {.add_bos = false, .parse_special = true}, &ids).ok());
  EXPECT_THAT(ids, ::testing::ElementsAre('z', 'z'));
  std::string s;
  ASSERT_TRUE((*t)->TokenBytes(257, false, &s).ok());
  EXPECT_EQ(s, "");
  ASSERT_TRUE((*t)->TokenBytes(256, false, &s).ok());
  EXPECT_EQ(s, "[EMPTY_256]");
}

}  // namespace
}  // namespace ember
