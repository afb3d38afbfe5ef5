// The Phi-2 / GPT-2 byte-level BPE tokenizer against the reference kit's expectations: ids
// produced by HF tokenizers and llama.cpp, decode outputs, llama.cpp's own .inp/.out test
// pair and the prompt ids of the tiny-phi2 reference cases. Every line must match.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/format/gguf.h"
#include "lib/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

namespace ember {
namespace {

using ::ember::testing::ReadFileBytes;
using ::ember::testing::ReadJson;
using ::ember::testing::ReadJsonLines;
using ::ember::testing::TestDataPath;

std::unique_ptr<Tokenizer> LoadGguf(const std::string& relative) {
  auto gguf = GgufFile::Open(TestDataPath(relative));
  EXPECT_TRUE(gguf.ok()) << gguf.status();
  if (!gguf.ok()) return nullptr;
  auto tok = TokenizerFromGguf(**gguf);
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? std::move(*tok) : nullptr;
}

std::unique_ptr<Tokenizer> LoadHf(const std::string& relative) {
  auto tok = TokenizerFromHfDir(TestDataPath(relative));
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? std::move(*tok) : nullptr;
}

// Loaded once for the whole program: parsing the vocabularies dominates otherwise.
const Tokenizer* HfPhi2() {
  static const Tokenizer* t = LoadHf("models/tiny-phi2").release();
  return t;
}
const Tokenizer* GgufPhi2() {
  static const Tokenizer* t = LoadGguf("models/tiny-phi2.f32.gguf").release();
  return t;
}
const Tokenizer* GgufGpt2() {
  static const Tokenizer* t = LoadGguf("tokenizers/ggml-vocab-gpt-2.gguf").release();
  return t;
}

std::string Ids(const std::vector<int32_t>& ids) { return absl::StrJoin(ids, " "); }

// Runs an encode expectation file; returns the number of lines that matched.
void CheckEncodeFile(const Tokenizer* tok, const std::string& file) {
  ASSERT_NE(tok, nullptr);
  const auto lines = ReadJsonLines(TestDataPath("tokenizers/expect/" + file));
  ASSERT_GT(lines.size(), 500u);
  int passed = 0, failures_shown = 0;
  for (const auto& line : lines) {
    EncodeOptions options;
    options.add_bos = line["add_bos"].get<bool>();
    options.parse_special = line["parse_special"].get<bool>();
    const std::string text = line["text"].get<std::string>();
    const auto want = line["ids"].get<std::vector<int32_t>>();
    std::vector<int32_t> got;
    absl::Status s = tok->Encode(text, options, &got);
    if (s.ok() && got == want) {
      ++passed;
    } else if (failures_shown++ < 10) {
      ADD_FAILURE() << file << " " << line["id"].get<std::string>() << " parse_special="
                    << options.parse_special << " text=" << line["text"].dump() << "\n  want "
                    << Ids(want) << "\n  got  " << Ids(got) << " " << s;
    }
  }
  EXPECT_EQ(passed, static_cast<int>(lines.size())) << file;
  std::printf("[ suite    ] %s: encode %d/%zu\n", file.c_str(), passed, lines.size());
}

void CheckDecodeFile(const Tokenizer* tok, const std::string& file) {
  ASSERT_NE(tok, nullptr);
  const auto lines = ReadJsonLines(TestDataPath("tokenizers/expect/" + file));
  ASSERT_GT(lines.size(), 400u);
  int passed = 0, failures_shown = 0;
  for (const auto& line : lines) {
    const auto ids = line["ids"].get<std::vector<int32_t>>();
    const std::string want = line["text"].get<std::string>();
    std::string got;
    absl::Status s = tok->Decode(ids, /*skip_special=*/false, &got);
    if (s.ok() && got == want) {
      ++passed;
    } else if (failures_shown++ < 10) {
      ADD_FAILURE() << file << " " << line["id"].get<std::string>() << "\n  want "
                    << nlohmann::json(want).dump() << "\n  got  "
                    << nlohmann::json(got).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace)
                    << " " << s;
    }
  }
  EXPECT_EQ(passed, static_cast<int>(lines.size())) << file;
  std::printf("[ suite    ] %s: decode %d/%zu\n", file.c_str(), passed, lines.size());
}

TEST(BpeExpectation, HfTokenizerJsonEncode) {
  CheckEncodeFile(HfPhi2(), "phi-2.hf-tokenizers.jsonl");
}
TEST(BpeExpectation, HfTokenizerJsonDecode) {
  CheckDecodeFile(HfPhi2(), "phi-2.hf-tokenizers.decode.jsonl");
}
TEST(BpeExpectation, Phi2GgufEncode) {
  CheckEncodeFile(GgufPhi2(), "phi-2.llamacpp-phi2-synth-gguf.jsonl");
}
TEST(BpeExpectation, Phi2GgufDecode) {
  CheckDecodeFile(GgufPhi2(), "phi-2.llamacpp-phi2-synth-gguf.decode.jsonl");
}
TEST(BpeExpectation, Gpt2GgufEncode) {
  CheckEncodeFile(GgufGpt2(), "phi-2.llamacpp-gpt2-gguf.jsonl");
}
TEST(BpeExpectation, Gpt2GgufDecode) {
  CheckDecodeFile(GgufGpt2(), "phi-2.llamacpp-gpt2-gguf.decode.jsonl");
}

// llama.cpp's test-tokenizer-0 pair: inputs separated by "\n__ggml_vocab_test__\n", one
// line of ids per input; encoded without BOS and without special-token parsing.
TEST(BpeExpectation, Gpt2GgufLlamaCppInpOut) {
  const Tokenizer* tok = GgufGpt2();
  ASSERT_NE(tok, nullptr);
  const std::string inp = ReadFileBytes(TestDataPath("tokenizers/ggml-vocab-gpt-2.gguf.inp"));
  const std::string out = ReadFileBytes(TestDataPath("tokenizers/ggml-vocab-gpt-2.gguf.out"));
  std::vector<std::string> inputs = absl::StrSplit(inp, "\n__ggml_vocab_test__\n");
  ASSERT_FALSE(inputs.empty());
  ASSERT_TRUE(inputs.back().empty());
  inputs.pop_back();
  std::vector<std::string> outputs = absl::StrSplit(out, '\n');
  if (!outputs.empty() && outputs.back().empty()) outputs.pop_back();
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_EQ(outputs.size(), inputs.size());
  int passed = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<int32_t> want;
    for (absl::string_view field : absl::StrSplit(outputs[i], ' ', absl::SkipEmpty())) {
      int32_t id;
      ASSERT_TRUE(absl::SimpleAtoi(field, &id)) << field;
      want.push_back(id);
    }
    std::vector<int32_t> got;
    ASSERT_TRUE(tok->Encode(inputs[i], EncodeOptions{}, &got).ok());
    EXPECT_EQ(Ids(got), Ids(want)) << "input " << i << ": " << nlohmann::json(inputs[i]).dump();
    passed += got == want;
  }
  std::printf("[ suite    ] ggml-vocab-gpt-2.gguf.inp/.out: %d/%zu\n", passed, inputs.size());
}

// The prompts of the tiny-phi2 reference cases (llama.cpp ids, no BOS), from both sources.
TEST(BpeExpectation, ReferencePromptIds) {
  const std::vector<std::pair<const char*, const Tokenizer*>> sources = {
      {"gguf", GgufPhi2()}, {"hf", HfPhi2()}};
  int checked = 0;
  for (const char* name : {"short", "long", "unicode", "code", "whitespace"}) {
    const auto ref = ReadJson(TestDataPath(absl::StrCat("reference/tiny-phi2.f32.", name, ".json")));
    ASSERT_FALSE(ref["add_bos"].get<bool>());
    const auto want = ref["prompt_token_ids"].get<std::vector<int32_t>>();
    for (const auto& [source, tok] : sources) {
      ASSERT_NE(tok, nullptr);
      std::vector<int32_t> got;
      ASSERT_TRUE(tok->Encode(ref["prompt"].get<std::string>(), EncodeOptions{}, &got).ok());
      EXPECT_EQ(Ids(got), Ids(want)) << source << " " << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 10);
}

TEST(BpeExpectation, VocabularyShape) {
  const Tokenizer* hf = HfPhi2();
  const Tokenizer* gguf = GgufPhi2();
  const Tokenizer* gpt2 = GgufGpt2();
  ASSERT_TRUE(hf && gguf && gpt2);
  EXPECT_EQ(hf->n_tokens(), 50295);
  EXPECT_EQ(gguf->n_tokens(), 51200);
  EXPECT_EQ(gpt2->n_tokens(), 50257);
  for (const Tokenizer* t : {hf, gguf, gpt2}) {
    EXPECT_EQ(t->bos(), 50256);
    EXPECT_EQ(t->eos(), 50256);
    EXPECT_FALSE(t->add_bos_by_default());
    EXPECT_TRUE(t->IsControl(50256));
    EXPECT_FALSE(t->IsControl(220));
    EXPECT_FALSE(t->IsControl(-1));
  }
  EXPECT_FALSE(hf->IsControl(50284));    // "    " is an added but not a special token
  EXPECT_FALSE(gguf->IsControl(50284));  // USER_DEFINED
}

TEST(BpeExpectation, TokenBytesAndPadTokens) {
  const Tokenizer* hf = HfPhi2();
  const Tokenizer* gguf = GgufPhi2();
  ASSERT_TRUE(hf && gguf);
  std::string s;
  for (const Tokenizer* t : {hf, gguf}) {
    ASSERT_TRUE(t->TokenBytes(18435, false, &s).ok());
    EXPECT_EQ(s, " Hello");
    ASSERT_TRUE(t->TokenBytes(50284, false, &s).ok());
    EXPECT_EQ(s, "    ");
    ASSERT_TRUE(t->TokenBytes(50294, true, &s).ok());
    EXPECT_EQ(s, "\t\t");
    ASSERT_TRUE(t->TokenBytes(50256, false, &s).ok());
    EXPECT_EQ(s, "<|endoftext|>");
    ASSERT_TRUE(t->TokenBytes(50256, true, &s).ok());
    EXPECT_EQ(s, "");
    // Half of "é" (0xC3 0xA9): token bytes are raw.
    ASSERT_TRUE(t->TokenBytes(127, false, &s).ok());
    EXPECT_EQ(s, "\xC3");
  }
  // [PAD50295]..[PAD51199] exist only in the GGUF, as UNUSED tokens that render as "".
  for (int32_t id : {50295, 50999, 51199}) {
    ASSERT_TRUE(gguf->TokenBytes(id, false, &s).ok());
    EXPECT_EQ(s, "");
    EXPECT_TRUE(gguf->Decode({15496, id, 995}, false, &s).ok());
    EXPECT_EQ(s, "Hello world");
    EXPECT_EQ(hf->TokenBytes(id, false, &s).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(gguf->TokenBytes(51200, false, &s).ok());
  EXPECT_FALSE(gguf->TokenBytes(-1, false, &s).ok());
  // "[PAD50295]" text is ordinary text (the token is UNUSED, so never matched).
  std::vector<int32_t> ids;
  ASSERT_TRUE(gguf->Encode("[PAD50295]", {.add_bos = false, .parse_special = true}, &ids).ok());
  for (int32_t id : ids) EXPECT_LT(id, 50256);
}

TEST(BpeExpectation, DecodeSkipSpecialAndLossyUtf8) {
  const Tokenizer* hf = HfPhi2();
  const Tokenizer* gguf = GgufPhi2();
  ASSERT_TRUE(hf && gguf);
  std::string s;
  const std::vector<int32_t> ids = {15496, 50256, 50284, 995};  // Hello<|endoftext|>    world
  for (const Tokenizer* t : {hf, gguf}) {
    ASSERT_TRUE(t->Decode(ids, false, &s).ok());
    EXPECT_EQ(s, "Hello<|endoftext|>     world");
    ASSERT_TRUE(t->Decode(ids, true, &s).ok());
    EXPECT_EQ(s, "Hello     world");
    EXPECT_TRUE(IsInvalidToken(t->Decode({15496, 60000}, false, &s)));
  }
  // A lone lead byte: HF replaces it (from_utf8_lossy), llama.cpp returns it raw.
  ASSERT_TRUE(hf->Decode({127, 64}, false, &s).ok());
  EXPECT_EQ(s, "\xEF\xBF\xBD" "a");
  ASSERT_TRUE(gguf->Decode({127, 64}, false, &s).ok());
  EXPECT_EQ(s, "\xC3" "a");
}

TEST(BpeExpectation, InvalidUtf8IsRejected) {
  for (const Tokenizer* t : {HfPhi2(), GgufPhi2(), GgufGpt2()}) {
    ASSERT_NE(t, nullptr);
    std::vector<int32_t> ids = {1, 2, 3};
    for (std::string bad : {std::string("abc\xFF"), std::string("\xC3"), std::string("a\xED\xA0\x80"),
                            std::string("\xC0\xAF"), std::string("\xF4\x90\x80\x80")}) {
      absl::Status s = t->Encode(bad, EncodeOptions{}, &ids);
      EXPECT_TRUE(IsInvalidUtf8(s)) << s;
    }
  }
}

}  // namespace
}  // namespace ember
