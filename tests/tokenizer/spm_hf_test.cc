// SentencePiece-BPE from tokenizer.json against HF `tokenizers`: the Llama 2 and Mistral
// expectation suites, agreement with the GGUF path on the reference prompts, and hostile or
// unusual tokenizer.json files.
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/format/gguf.h"
#include "lib/tokenizer/spm_tokenizer.h"
#include "lib/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"
#include "tests/tokenizer/spm_suite.h"

namespace ember {
namespace {

using ::ember::testing::ReadJson;
using ::ember::testing::RunDecodeSuite;
using ::ember::testing::RunEncodeSuite;
using ::ember::testing::SuiteCounts;
using ::ember::testing::TestDataPath;
using nlohmann::json;

std::unique_ptr<Tokenizer> LoadHfDir(const std::string& relative) {
  auto tokenizer = TokenizerFromHfDir(TestDataPath(relative));
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  if (!tokenizer.ok()) return nullptr;
  return std::move(*tokenizer);
}

const Tokenizer& Llama2() {
  static const std::unique_ptr<Tokenizer> t = LoadHfDir("models/tiny-llama2");
  return *t;
}

const Tokenizer& Mistral() {
  static const std::unique_ptr<Tokenizer> t = LoadHfDir("models/tiny-mistral");
  return *t;
}

std::vector<int32_t> Encode(const Tokenizer& t, std::string_view text, bool add_bos = false,
                            bool parse_special = true) {
  std::vector<int32_t> ids;
  EncodeOptions options;
  options.add_bos = add_bos;
  options.parse_special = parse_special;
  const absl::Status s = t.Encode(text, options, &ids);
  EXPECT_TRUE(s.ok()) << s;
  return ids;
}

std::string Decode(const Tokenizer& t, const std::vector<int32_t>& ids, bool skip_special = false) {
  std::string text;
  const absl::Status s = t.Decode(ids, skip_special, &text);
  EXPECT_TRUE(s.ok()) << s;
  return text;
}

TEST(SpmHf, Llama2EncodeSuite) {
  const SuiteCounts c = RunEncodeSuite(Llama2(), "tokenizers/expect/llama-2.hf-tokenizers.jsonl");
  EXPECT_EQ(c.passed, c.total);
  EXPECT_EQ(c.total, 1030);
  std::cout << "llama-2.hf-tokenizers encode: " << c.passed << "/" << c.total << "\n";
}

TEST(SpmHf, Llama2DecodeSuite) {
  const SuiteCounts c =
      RunDecodeSuite(Llama2(), "tokenizers/expect/llama-2.hf-tokenizers.decode.jsonl");
  EXPECT_EQ(c.passed, c.total);
  EXPECT_EQ(c.total, 482);
  std::cout << "llama-2.hf-tokenizers decode: " << c.passed << "/" << c.total << "\n";
}

TEST(SpmHf, MistralEncodeSuite) {
  const SuiteCounts c = RunEncodeSuite(Mistral(), "tokenizers/expect/mistral.hf-tokenizers.jsonl");
  EXPECT_EQ(c.passed, c.total);
  EXPECT_EQ(c.total, 1030);
  std::cout << "mistral.hf-tokenizers encode: " << c.passed << "/" << c.total << "\n";
}

TEST(SpmHf, MistralDecodeSuite) {
  const SuiteCounts c =
      RunDecodeSuite(Mistral(), "tokenizers/expect/mistral.hf-tokenizers.decode.jsonl");
  EXPECT_EQ(c.passed, c.total);
  EXPECT_EQ(c.total, 482);
  std::cout << "mistral.hf-tokenizers decode: " << c.passed << "/" << c.total << "\n";
}

// Without special parsing HF, llama.cpp and sentencepiece agree on all Llama 2 cases.
TEST(SpmHf, Llama2MatchesSentencePiece) {
  const SuiteCounts c = RunEncodeSuite(Llama2(), "tokenizers/expect/llama-2.sentencepiece.jsonl");
  EXPECT_EQ(c.passed, c.total);
}

// The reference prompts (tokenized by llama.cpp from the GGUF) come out the same from the
// tokenizer.json of the same model.
TEST(SpmHf, ReferencePromptsMatchTheGgufIds) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TestDataPath("reference"))) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || name == "index.json") continue;
    const json ref = ReadJson(entry.path().string());
    if (!ref["hf_dir"].is_string()) continue;
    const std::string hf_dir = ref["hf_dir"].get<std::string>();
    if (hf_dir.find("phi2") != std::string::npos) continue;
    SCOPED_TRACE(name);
    const Tokenizer& t = hf_dir.find("mistral") != std::string::npos ? Mistral() : Llama2();
    EXPECT_EQ(t.add_bos_by_default(), ref["add_bos"].get<bool>());
    EXPECT_EQ(t.bos(), ref["bos_token_id"].get<int32_t>());
    EXPECT_EQ(t.eos(), ref["eos_token_id"].get<int32_t>());
    EXPECT_EQ(Encode(t, ref["prompt"].get<std::string>(), ref["add_bos"].get<bool>()),
              ref["prompt_token_ids"].get<std::vector<int32_t>>());
    ++checked;
  }
  EXPECT_EQ(checked, 20);  // tiny-llama2 and tiny-mistral, f32 and q8_0, 5 prompts each
}

TEST(SpmHf, Metadata) {
  for (const Tokenizer* t : {&Llama2(), &Mistral()}) {
    EXPECT_EQ(t->n_tokens(), 32000);
    EXPECT_EQ(t->bos(), 1);
    EXPECT_EQ(t->eos(), 2);
    EXPECT_TRUE(t->add_bos_by_default());
    EXPECT_TRUE(t->IsControl(0));  // special added tokens
    EXPECT_TRUE(t->IsControl(1));
    EXPECT_TRUE(t->IsControl(2));
    EXPECT_FALSE(t->IsControl(3));
    EXPECT_FALSE(t->IsControl(32000));
  }
}

TEST(SpmHf, AddBosAndTokenBytes) {
  EXPECT_EQ(Encode(Llama2(), "Hello world", true), (std::vector<int32_t>{1, 15043, 3186}));
  std::string s;
  ASSERT_TRUE(Llama2().TokenBytes(15043, false, &s).ok());
  EXPECT_EQ(s, " Hello");
  ASSERT_TRUE(Llama2().TokenBytes(13, false, &s).ok());
  EXPECT_EQ(s, "\n");
  ASSERT_TRUE(Llama2().TokenBytes(2, false, &s).ok());
  EXPECT_EQ(s, "</s>");
  ASSERT_TRUE(Llama2().TokenBytes(2, true, &s).ok());
  EXPECT_EQ(s, "");
  EXPECT_TRUE(IsInvalidToken(Llama2().TokenBytes(32000, false, &s)));
  EXPECT_TRUE(IsInvalidToken(Llama2().Decode(std::vector<int32_t>{-5}, false, &s)));
}

TEST(SpmHf, DecodeSkipsSpecialAndReplacesBrokenBytes) {
  EXPECT_EQ(Decode(Llama2(), {1, 15043, 2}), "<s> Hello</s>");
  EXPECT_EQ(Decode(Llama2(), {1, 15043, 2}, /*skip_special=*/true), "Hello");
  // <0xE6> alone is not UTF-8: ByteFallback gives U+FFFD; the full character decodes.
  EXPECT_EQ(Decode(Llama2(), {15043, 3 + 0xE6}), "Hello\xEF\xBF\xBD");
  EXPECT_EQ(Decode(Llama2(), {3 + 0xE6, 3 + 0x97, 3 + 0xA5}), "\xE6\x97\xA5");
}

TEST(SpmHf, EncodeRejectsInvalidUtf8) {
  std::vector<int32_t> ids;
  EXPECT_TRUE(IsInvalidUtf8(Mistral().Encode("ok \xE2\x28\xA1", EncodeOptions(), &ids)));
}

// ---- Synthetic tokenizer.json files ---------------------------------------------------------

json TinyTokenizer() {
  return json::parse(R"({
    "added_tokens": [
      {"id": 0, "content": "<unk>", "special": true, "normalized": false},
      {"id": 1, "content": "<s>", "special": true, "normalized": false},
      {"id": 2, "content": "</s>", "special": true, "normalized": false},
      {"id": 9, "content": "<tool>", "special": false, "normalized": false}
    ],
    "normalizer": null,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                      "split": true},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "</s>", "type_id": 0}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                         "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                "split": true},
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": false,
      "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "\u2581": 3, "a": 4, "b": 5, "\u2581a": 6,
                "ab": 7, "\u2581ab": 8},
      "merges": [["a", "b"], "\u2581 a", "\u2581a b", "\u2581 ab"]}
  })");
}

absl::StatusOr<std::unique_ptr<Tokenizer>> FromJson(const json& tokenizer,
                                                    const json& config = json::object()) {
  return CreateSpmTokenizerFromHfJson(tokenizer, config, "synthetic/tokenizer.json");
}

TEST(SpmHfSynthetic, MergeRanksMetaspaceSplitFuseUnkAndTemplate) {
  auto t = FromJson(TinyTokenizer());
  ASSERT_TRUE(t.ok()) << t.status();
  // "▁ab": rank 0 "a b" first, then "▁ ab" (rank 3) -- not "▁ a" (rank 1), which never gets
  // its chance.
  EXPECT_EQ(Encode(**t, "ab"), (std::vector<int32_t>{8}));
  // split: every "▁" starts a word; unknown characters fuse into one <unk>.
  EXPECT_EQ(Encode(**t, "ab a"), (std::vector<int32_t>{8, 6}));
  EXPECT_EQ(Encode(**t, "xyzb"), (std::vector<int32_t>{3, 0, 5}));
  // The template adds <s> ... </s>.
  EXPECT_TRUE((*t)->add_bos_by_default());
  EXPECT_EQ(Encode(**t, "a", true), (std::vector<int32_t>{1, 6, 2}));
  // A non-special added token splits even without parse_special; "always" prefixes again.
  EXPECT_EQ(Encode(**t, "a<tool>b", false, false), (std::vector<int32_t>{6, 9, 3, 5}));
  EXPECT_EQ((*t)->n_tokens(), 10);
  EXPECT_FALSE((*t)->IsControl(9));
  // Metaspace decoder: "▁" -> " ", dropped in the first token.
  EXPECT_EQ(Decode(**t, {8, 6, 3}), "ab a ");
  // Ids without a token (3..8 exist, 9 is added; none is missing here) and out of range.
  std::string s;
  EXPECT_TRUE(IsInvalidToken((*t)->Decode(std::vector<int32_t>{10}, false, &s)));
}

TEST(SpmHfSynthetic, UnicodeNormalizer) {
  json j = TinyTokenizer();
  j["model"]["vocab"]["f"] = 10;
  j["model"]["vocab"]["i"] = 11;
  auto plain = FromJson(j);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(Encode(**plain, "\xEF\xAC\x81"), (std::vector<int32_t>{3, 0}));  // U+FB01 "ﬁ": <unk>
  j["normalizer"] = json::parse(R"({"type": "Sequence", "normalizers": [{"type": "NFKC"}]})");
  auto nfkc = FromJson(j);
  ASSERT_TRUE(nfkc.ok()) << nfkc.status();
  EXPECT_EQ(Encode(**nfkc, "\xEF\xAC\x81"), (std::vector<int32_t>{3, 10, 11}));
}

TEST(SpmHfSynthetic, ConfigOverridesTemplate) {
  auto t = FromJson(TinyTokenizer(), json::parse(R"({"add_bos_token": false,
      "add_eos_token": false, "bos_token": {"content": "<s>"}, "eos_token": "</s>"})"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE((*t)->add_bos_by_default());
  EXPECT_EQ(Encode(**t, "a", true), (std::vector<int32_t>{1, 6}));
}

TEST(SpmHfSynthetic, RejectsBrokenFiles) {
  const auto expect_error = [](json j, absl::StatusCode code, std::string_view needle) {
    auto t = FromJson(j);
    ASSERT_FALSE(t.ok()) << j.dump();
    EXPECT_EQ(t.status().code(), code) << t.status();
    EXPECT_NE(t.status().message().find(AV(needle)), absl::string_view::npos) << t.status();
  };
  const auto data_loss = absl::StatusCode::kDataLoss;         // InvalidModelError
  const auto unsupported = absl::StatusCode::kUnimplemented;  // UnsupportedError
  {
    json j = TinyTokenizer();
    j.erase("model");
    expect_error(j, data_loss, "model");
  }
  {
    json j = TinyTokenizer();
    j["model"]["vocab"] = json::array();
    expect_error(j, data_loss, "vocab");
  }
  {
    json j = TinyTokenizer();
    j["model"]["vocab"] = json::object();
    expect_error(j, data_loss, "vocab");
  }
  {
    json j = TinyTokenizer();
    j["model"]["vocab"]["zz"] = -4;
    expect_error(j, data_loss, "zz");
  }
  {
    json j = TinyTokenizer();
    j["model"]["vocab"]["zz"] = "7";
    expect_error(j, data_loss, "zz");
  }
  {
    json j = TinyTokenizer();
    j["model"]["vocab"]["zz"] = 4;  // id 4 already "a"
    expect_error(j, data_loss, "id 4");
  }
  {
    json j = TinyTokenizer();
    j["model"]["merges"].push_back("b q");
    expect_error(j, data_loss, "merge 4");
  }
  {
    json j = TinyTokenizer();
    j["model"]["merges"].push_back("ab");
    expect_error(j, data_loss, "merge 4");
  }
  {
    json j = TinyTokenizer();
    j["model"]["merges"].push_back(json::array({"a", 5}));
    expect_error(j, data_loss, "merge 4");
  }
  {
    json j = TinyTokenizer();
    j["model"]["merges"] = "a b";
    expect_error(j, data_loss, "merges");
  }
  {
    json j = TinyTokenizer();
    j["model"]["unk_token"] = "<nope>";
    expect_error(j, data_loss, "<nope>");
  }
  {
    json j = TinyTokenizer();
    j["added_tokens"].push_back({{"id", -2}, {"content", "x"}});
    expect_error(j, data_loss, "-2");
  }
  {
    json j = TinyTokenizer();
    j["added_tokens"].push_back({{"id", 1LL << 40}, {"content", "x"}});
    expect_error(j, data_loss, "out of range");
  }
  {
    json j = TinyTokenizer();
    j["added_tokens"].push_back("x");
    expect_error(j, data_loss, "added_tokens");
  }
  {
    json j = TinyTokenizer();
    j["model"]["type"] = "Unigram";
    expect_error(j, unsupported, "Unigram");
  }
  {
    json j = TinyTokenizer();
    j["normalizer"] = {{"type", "Lowercase"}};
    expect_error(j, unsupported, "Lowercase");
  }
  {
    json j = TinyTokenizer();
    j["pre_tokenizer"] = {{"type", "Whitespace"}};
    expect_error(j, unsupported, "Whitespace");
  }
  {
    json j = TinyTokenizer();
    j["decoder"] = {{"type", "WordPiece"}};
    expect_error(j, unsupported, "WordPiece");
  }
  {
    json j = TinyTokenizer();
    j["model"]["continuing_subword_prefix"] = "##";
    expect_error(j, unsupported, "continuing_subword_prefix");
  }
  expect_error(json::array(), data_loss, "model");
}

TEST(SpmHfSynthetic, LoadsThroughTheFactoryFromADirectory) {
  const std::string dir =
      std::filesystem::path(ember::testing::WriteTempFile("tokenizer.json", TinyTokenizer().dump()))
          .parent_path()
          .string();
  auto t = TokenizerFromHfDir(dir);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Encode(**t, "ab"), (std::vector<int32_t>{8}));
}

}  // namespace
}  // namespace ember
