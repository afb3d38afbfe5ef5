// SentencePiece tokenizer from GGUF metadata against llama.cpp's behaviour: the Llama 2
// expectation suites, the reference prompts of every SentencePiece model, and hostile or
// inconsistent metadata.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/base/mapped_file.h"
#include "lib/format/gguf.h"
#include "lib/format/gguf_writer.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/utf8.h"
#include "tests/support/test_support.h"
#include "tests/tokenizer/spm_suite.h"

namespace ember {
namespace {

using ::ember::testing::ReadJson;
using ::ember::testing::RunDecodeSuite;
using ::ember::testing::RunEncodeSuite;
using ::ember::testing::SuiteCounts;
using ::ember::testing::TestDataPath;

std::unique_ptr<Tokenizer> LoadGguf(const std::string& relative) {
  auto gguf = GgufFile::Open(TestDataPath(relative));
  EXPECT_TRUE(gguf.ok()) << gguf.status();
  if (!gguf.ok()) return nullptr;
  auto tokenizer = TokenizerFromGguf(**gguf);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  if (!tokenizer.ok()) return nullptr;
  return std::move(*tokenizer);
}

const Tokenizer& Llama2() {
  static const std::unique_ptr<Tokenizer> tokenizer = LoadGguf("models/llama-2-tiny-random.gguf");
  return *tokenizer;
}

std::vector<int32_t> Encode(const Tokenizer& t, std::string_view text, bool add_bos = false,
                            bool parse_special = false) {
  std::vector<int32_t> ids;
  EncodeOptions options;
  options.add_bos = add_bos;
  options.parse_special = parse_special;
  const absl::Status s = t.Encode(text, options, &ids);
  EXPECT_TRUE(s.ok()) << s;
  return ids;
}

TEST(SpmGguf, LlamaCppEncodeSuite) {
  const SuiteCounts c =
      RunEncodeSuite(Llama2(), "tokenizers/expect/llama-2.llamacpp-llama-spm-gguf.jsonl");
  EXPECT_EQ(c.passed, c.total);
  EXPECT_EQ(c.total, 1030);
  std::cout << "llama-2.llamacpp-llama-spm-gguf encode: " << c.passed << "/" << c.total << "\n";
}

TEST(SpmGguf, LlamaCppDecodeSuite) {
  const SuiteCounts c =
      RunDecodeSuite(Llama2(), "tokenizers/expect/llama-2.llamacpp-llama-spm-gguf.decode.jsonl");
  EXPECT_EQ(c.passed, c.total);
  EXPECT_EQ(c.total, 480);
  std::cout << "llama-2.llamacpp-llama-spm-gguf decode: " << c.passed << "/" << c.total << "\n";
}

TEST(SpmGguf, TinyLlama2VocabPassesTheSameSuite) {
  const auto tokenizer = LoadGguf("models/tiny-llama2.f32.gguf");
  ASSERT_NE(tokenizer, nullptr);
  const SuiteCounts c =
      RunEncodeSuite(*tokenizer, "tokenizers/expect/llama-2.llamacpp-llama-spm-gguf.jsonl");
  EXPECT_EQ(c.passed, c.total);
}

// Every reference case of a SentencePiece GGUF: the prompt ids (BOS added), and the greedy
// continuation rendered piece by piece as llama.cpp does.
TEST(SpmGguf, ReferencePromptsAndPieces) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TestDataPath("reference"))) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || name == "index.json") continue;
    const nlohmann::json ref = ReadJson(entry.path().string());
    const std::string model_file = ref["model_file"].get<std::string>();
    if (model_file.rfind("tiny-phi2", 0) == 0) continue;  // GPT-2 BPE
    if (!std::filesystem::exists(TestDataPath("models/" + model_file))) continue;
    SCOPED_TRACE(name);
    const auto tokenizer = LoadGguf("models/" + model_file);
    ASSERT_NE(tokenizer, nullptr);
    EXPECT_EQ(tokenizer->add_bos_by_default(), ref["add_bos"].get<bool>());
    EXPECT_EQ(tokenizer->bos(), ref["bos_token_id"].get<int32_t>());
    EXPECT_EQ(tokenizer->eos(), ref["eos_token_id"].get<int32_t>());
    EXPECT_EQ(tokenizer->n_tokens(), ref["n_vocab"].get<int32_t>());
    EXPECT_EQ(Encode(*tokenizer, ref["prompt"].get<std::string>(), ref["add_bos"].get<bool>()),
              ref["prompt_token_ids"].get<std::vector<int32_t>>());

    const nlohmann::json& greedy = ref["greedy"];
    std::string bytes, streamed, piece;
    Utf8Stream stream;
    for (int32_t id : greedy["token_ids"].get<std::vector<int32_t>>()) {
      ASSERT_TRUE(tokenizer->TokenBytes(id, /*skip_special=*/false, &piece).ok());
      bytes += piece;
      stream.Push(piece, &streamed);
    }
    stream.Flush(&streamed);
    EXPECT_EQ(absl::BytesToHexString(bytes), greedy["text_utf8_hex"].get<std::string>());
    EXPECT_EQ(streamed, greedy["text"].get<std::string>());
    ++checked;
  }
  // stories260K, llama-2-tiny-random, tiny-llama2 (f32, q8_0), tiny-mistral (q8_0): 5 each.
  EXPECT_EQ(checked, 25);
}

TEST(SpmGguf, Metadata) {
  const Tokenizer& t = Llama2();
  EXPECT_EQ(t.n_tokens(), 32000);
  EXPECT_EQ(t.bos(), 1);
  EXPECT_EQ(t.eos(), 2);
  EXPECT_TRUE(t.add_bos_by_default());
  EXPECT_TRUE(t.IsControl(1));
  EXPECT_TRUE(t.IsControl(2));
  EXPECT_FALSE(t.IsControl(0));  // <unk> is UNKNOWN, not CONTROL
  EXPECT_FALSE(t.IsControl(15043));
  EXPECT_FALSE(t.IsControl(-1));
  EXPECT_FALSE(t.IsControl(32000));
}

TEST(SpmGguf, TokenBytes) {
  const Tokenizer& t = Llama2();
  std::string s;
  ASSERT_TRUE(t.TokenBytes(15043, false, &s).ok());
  EXPECT_EQ(s, " Hello");  // "▁Hello"
  ASSERT_TRUE(t.TokenBytes(29871, false, &s).ok());
  EXPECT_EQ(s, " ");
  ASSERT_TRUE(t.TokenBytes(13, false, &s).ok());  // <0x0A>
  EXPECT_EQ(s, "\n");
  ASSERT_TRUE(t.TokenBytes(3 + 0xE6, false, &s).ok());  // <0xE6>: half a character
  EXPECT_EQ(s, "\xE6");
  ASSERT_TRUE(t.TokenBytes(2, false, &s).ok());
  EXPECT_EQ(s, "</s>");
  ASSERT_TRUE(t.TokenBytes(2, true, &s).ok());
  EXPECT_EQ(s, "");
  ASSERT_TRUE(t.TokenBytes(0, false, &s).ok());
  EXPECT_EQ(s, "<unk>");
  EXPECT_TRUE(IsInvalidToken(t.TokenBytes(32000, false, &s)));
  EXPECT_TRUE(IsInvalidToken(t.TokenBytes(-1, false, &s)));
}

TEST(SpmGguf, DecodeStripsOnlyTheFirstPrefixSpace) {
  const Tokenizer& t = Llama2();
  std::string s;
  ASSERT_TRUE(t.Decode(std::vector<int32_t>{15043, 3186}, false, &s).ok());
  EXPECT_EQ(s, "Hello world");
  ASSERT_TRUE(t.Decode(std::vector<int32_t>{1, 15043, 3186, 2}, false, &s).ok());
  EXPECT_EQ(s, "<s> Hello world</s>");
  ASSERT_TRUE(t.Decode(std::vector<int32_t>{1, 15043, 3186, 2}, true, &s).ok());
  EXPECT_EQ(s, " Hello world");
  ASSERT_TRUE(t.Decode(std::vector<int32_t>{}, false, &s).ok());
  EXPECT_EQ(s, "");
  EXPECT_TRUE(IsInvalidToken(t.Decode(std::vector<int32_t>{15043, 40000}, false, &s)));
}

TEST(SpmGguf, EncodeRejectsInvalidUtf8) {
  std::vector<int32_t> ids = {7};
  for (const char* bad : {"\xFF", "abc\xC3", "\xED\xA0\x80", "\xC0\x80"}) {
    const absl::Status s = Llama2().Encode(bad, EncodeOptions(), &ids);
    EXPECT_TRUE(IsInvalidUtf8(s)) << absl::CHexEscape(bad) << " " << s;
  }
}

TEST(SpmGguf, RoundTripsMixedText) {
  const Tokenizer& t = Llama2();
  const std::string text = "  Mixed\ttext \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\xA6\x99\n\n end ";
  std::string decoded;
  ASSERT_TRUE(t.Decode(Encode(t, text), false, &decoded).ok());
  EXPECT_EQ(decoded, text);
}

// ---- Synthetic vocabularies -------------------------------------------------------------

struct TokenSpec {
  std::string text;
  float score;
  int32_t type;
};

// Builds a GGUF holding only tokenizer metadata; `edit` may add or replace keys.
class SyntheticVocab {
 public:
  explicit SyntheticVocab(std::vector<TokenSpec> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<std::unique_ptr<Tokenizer>> Build(
      const std::function<void(GgufWriter&)>& extra = nullptr, bool write_tokens = true,
      bool write_scores = true, bool write_types = true) {
    GgufWriter w;
    w.AddString("general.architecture", "llama");
    w.AddString("tokenizer.ggml.model", "llama");
    std::vector<std::string> texts;
    std::vector<float> scores;
    std::vector<int32_t> types;
    for (const TokenSpec& t : tokens_) {
      texts.push_back(t.text);
      scores.push_back(t.score);
      types.push_back(t.type);
    }
    if (write_tokens) w.AddStringArray("tokenizer.ggml.tokens", texts);
    if (write_scores) w.AddFloat32Array("tokenizer.ggml.scores", scores);
    if (write_types) w.AddInt32Array("tokenizer.ggml.token_type", types);
    if (extra) extra(w);
    auto bytes = w.ToBytes();
    if (!bytes.ok()) return bytes.status();
    bytes_ = std::move(*bytes);
    auto gguf = GgufFile::Parse(MappedFile::FromBuffer(
        absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()),
        "synthetic.gguf"));
    if (!gguf.ok()) return gguf.status();
    return TokenizerFromGguf(**gguf);
  }

 private:
  std::vector<TokenSpec> tokens_;
  std::string bytes_;
};

constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6;

std::vector<TokenSpec> SmallVocab() {
  return {
      {"<unk>", 0, kUnknown},         // 0
      {"<s>", 0, kControl},           // 1
      {"</s>", 0, kControl},          // 2
      {"\xE2\x96\x81", -5, kNormal},  // 3 "▁"
      {"a", -1, kNormal},             // 4
      {"b", -1, kNormal},             // 5
      {"aa", -2, kNormal},            // 6
      {"ab", -3, kNormal},            // 7
      {"bb", -2.5, kNormal},          // 8
      {"abb", -0.5, kNormal},         // 9
      {"<0x63>", 0, kByte},           // 10 'c'
      {"[X]", 0, kUserDefined},       // 11
      {"\xE2\x96\x81"
       "a",
       -4, kNormal},  // 12 "▁a"
  };
}

TEST(SpmGgufSynthetic, MergesByHighestScoreLeftmostFirst) {
  SyntheticVocab v(SmallVocab());
  auto t = v.Build([](GgufWriter& w) { w.AddBool("tokenizer.ggml.add_space_prefix", false); });
  ASSERT_TRUE(t.ok()) << t.status();
  // "aa" (-2) beats "ab" (-3); equal scores merge from the left.
  EXPECT_EQ(Encode(**t, "aab"), (std::vector<int32_t>{6, 5}));
  EXPECT_EQ(Encode(**t, "aaa"), (std::vector<int32_t>{6, 4}));
  // "bb" (-2.5) beats "ab" (-3); then "a" + "bb" forms "abb".
  EXPECT_EQ(Encode(**t, "abb"), (std::vector<int32_t>{9}));
  // 'c' has only a byte token; 'd' has neither: byte fallback, then <unk>.
  EXPECT_EQ(Encode(**t, "cd"), (std::vector<int32_t>{10, 0}));
  // Without a prefix space the leading space is just "▁".
  EXPECT_EQ(Encode(**t, " a"), (std::vector<int32_t>{12}));
}

TEST(SpmGgufSynthetic, UserDefinedTokensSplitEvenWithoutParseSpecial) {
  SyntheticVocab v(SmallVocab());
  auto t = v.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  // Prefix space on by default: "a[X]a" -> "▁a", [X], "▁a" (each fragment after a special
  // token gets its own prefix).
  EXPECT_EQ(Encode(**t, "a[X]a"), (std::vector<int32_t>{12, 11, 12}));
  // </s> is CONTROL: only with parse_special.
  EXPECT_EQ(Encode(**t, "</s>", false, true), (std::vector<int32_t>{2}));
  EXPECT_NE(Encode(**t, "</s>", false, false), (std::vector<int32_t>{2}));
  std::string s;
  ASSERT_TRUE((*t)->Decode(std::vector<int32_t>{12, 11, 12}, false, &s).ok());
  EXPECT_EQ(s, "a[X] a");
}

TEST(SpmGgufSynthetic, AddEosAndDefaults) {
  SyntheticVocab v(SmallVocab());
  auto t = v.Build([](GgufWriter& w) {
    w.AddBool("tokenizer.ggml.add_eos_token", true);
    w.AddBool("tokenizer.ggml.add_bos_token", false);
    w.AddUint32("tokenizer.ggml.eos_token_id", 11);
  });
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE((*t)->add_bos_by_default());
  EXPECT_EQ((*t)->bos(), 1);  // llama.cpp's default
  EXPECT_EQ((*t)->eos(), 11);
  EXPECT_EQ(Encode(**t, "a", /*add_bos=*/true), (std::vector<int32_t>{1, 12, 11}));
  EXPECT_EQ(Encode(**t, "a", /*add_bos=*/false), (std::vector<int32_t>{12}));
}

TEST(SpmGgufSynthetic, MissingScoresAndTypesDefault) {
  SyntheticVocab v(SmallVocab());
  auto t = v.Build(nullptr, true, /*write_scores=*/false, /*write_types=*/false);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE((*t)->IsControl(1));  // every token NORMAL
}

TEST(SpmGgufSynthetic, RejectsInconsistentMetadata) {
  const auto expect_invalid = [](absl::StatusOr<std::unique_ptr<Tokenizer>> t,
                                 std::string_view needle) {
    ASSERT_FALSE(t.ok());
    EXPECT_TRUE(absl::IsDataLoss(t.status())) << t.status();  // InvalidModelError
    EXPECT_NE(t.status().message().find(AV(needle)), absl::string_view::npos) << t.status();
  };
  {
    SyntheticVocab v(SmallVocab());
    expect_invalid(v.Build(
                       [](GgufWriter& w) {
                         w.AddFloat32Array("tokenizer.ggml.scores", std::vector<float>{1, 2});
                       },
                       true, /*write_scores=*/false),
                   "tokenizer.ggml.scores");
  }
  {
    SyntheticVocab v(SmallVocab());
    expect_invalid(v.Build(
                       [](GgufWriter& w) {
                         w.AddInt32Array("tokenizer.ggml.token_type", std::vector<int32_t>(100, 1));
                       },
                       true, true, /*write_types=*/false),
                   "tokenizer.ggml.token_type");
  }
  {
    SyntheticVocab v(SmallVocab());
    expect_invalid(v.Build([](GgufWriter& w) { w.AddUint32("tokenizer.ggml.bos_token_id", 13); }),
                   "bos_token_id");
  }
  {
    SyntheticVocab v(SmallVocab());
    expect_invalid(v.Build([](GgufWriter& w) {
      w.AddUint64("tokenizer.ggml.eos_token_id", uint64_t{1} << 40);
    }),
                   "eos_token_id");
  }
  {
    SyntheticVocab v({});
    expect_invalid(v.Build(), "tokenizer.ggml.tokens");
  }
  {
    SyntheticVocab v(SmallVocab());
    expect_invalid(v.Build(nullptr, /*write_tokens=*/false, false, false), "tokenizer.ggml.tokens");
  }
  {
    std::vector<TokenSpec> tokens = SmallVocab();
    tokens.push_back({"<0xZZ>", 0, kByte});
    SyntheticVocab v(tokens);
    expect_invalid(v.Build(), "BYTE");
  }
  {
    SyntheticVocab v(SmallVocab());
    expect_invalid(v.Build(
                       [](GgufWriter& w) {
                         w.AddStringArray("tokenizer.ggml.scores", std::vector<std::string>{"x"});
                       },
                       true, /*write_scores=*/false),
                   "tokenizer.ggml.scores");
  }
  {
    SyntheticVocab v(SmallVocab());
    expect_invalid(
        v.Build([](GgufWriter& w) { w.AddString("tokenizer.ggml.add_bos_token", "yes"); }),
        "add_bos_token");
  }
}

TEST(SpmGgufSynthetic, NegativeSpecialIdMeansNone) {
  SyntheticVocab v(SmallVocab());
  auto t = v.Build([](GgufWriter& w) { w.AddInt32("tokenizer.ggml.bos_token_id", -1); });
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->bos(), -1);
  EXPECT_FALSE((*t)->add_bos_by_default());
  EXPECT_EQ(Encode(**t, "a"), (std::vector<int32_t>{12}));
  std::vector<int32_t> ids;
  EncodeOptions with_bos;
  with_bos.add_bos = true;
  EXPECT_TRUE(absl::IsInvalidArgument((*t)->Encode("a", with_bos, &ids)));
}

TEST(SpmGgufSynthetic, DefaultIdsOutsideATinyVocabMeanNone) {
  SyntheticVocab v({{"x", 0, kNormal}, {"a", 0, kNormal}});
  auto t = v.Build([](GgufWriter& w) { w.AddBool("tokenizer.ggml.add_space_prefix", false); });
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->bos(), 1);   // default 1 exists
  EXPECT_EQ((*t)->eos(), -1);  // default 2 does not
  // UNK defaults to 0: 'b' has no token and no byte token.
  EXPECT_EQ(Encode(**t, "ab"), (std::vector<int32_t>{1, 0}));
}

}  // namespace
}  // namespace ember
