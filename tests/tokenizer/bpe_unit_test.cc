// Unit tests of the GPT-2 byte-level BPE pieces: the byte map, the pre-tokenizer scanner,
// merge order, added-token matching (HF vs llama.cpp rules), special parsing, decoding.
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/gpt2_pretokenizer.h"
#include "tests/tokenizer/bpe_test_vocab.h"

namespace ember {
namespace {

using ::ember::testing::Gpt2FromGgufBytes;
using ::ember::testing::Gpt2FromJson;
using ::ember::testing::TinyGgufBytes;
using ::ember::testing::TinyTokenizerJson;
using ::ember::testing::TinyVocab;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

TEST(ByteLevel, MapIsABijectionOntoPrintableSymbols) {
  std::vector<bool> seen(0x200, false);
  for (int b = 0; b < 256; ++b) {
    const char32_t cp = ByteToSymbol(static_cast<uint8_t>(b));
    ASSERT_LT(cp, 0x200u);
    EXPECT_FALSE(seen[cp]) << b;
    seen[cp] = true;
    EXPECT_EQ(SymbolToByte(cp), b);
  }
  EXPECT_EQ(ByteToSymbol('A'), U'A');
  EXPECT_EQ(ByteToSymbol(' '), U'\u0120');   // Ġ
  EXPECT_EQ(ByteToSymbol('\n'), U'\u010A');  // Ċ
  EXPECT_EQ(ByteToSymbol(0x00), U'\u0100');
  EXPECT_EQ(ByteToSymbol(0x7F), U'\u0121');
  EXPECT_EQ(ByteToSymbol(0xAD), U'\u0143');
  EXPECT_EQ(ByteToSymbol(0xE9), U'\u00E9');  // printable Latin-1 stays
  EXPECT_EQ(SymbolToByte(U' '), -1);
  EXPECT_EQ(SymbolToByte(U'\u0144'), -1);
  std::string bytes;
  EXPECT_TRUE(SymbolsToBytes("Hello\xC4\xA0world", &bytes));  // "HelloĠworld"
  EXPECT_EQ(bytes, "Hello world");
  EXPECT_FALSE(SymbolsToBytes("a b", &bytes));  // raw space is not a symbol
  EXPECT_FALSE(SymbolsToBytes("\xC4", &bytes));
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string_view> views;
  SplitGpt2Words(text, &views);
  return std::vector<std::string>(views.begin(), views.end());
}

TEST(Gpt2PreTokenizer, FollowsThePattern) {
  EXPECT_THAT(Words(""), ElementsAre());
  EXPECT_THAT(Words("Hello world"), ElementsAre("Hello", " world"));
  EXPECT_THAT(Words("Hello, world!"), ElementsAre("Hello", ",", " world", "!"));
  // Contractions: lower case only, matched before the punctuation rule.
  EXPECT_THAT(Words("don't we'll I'm you're they've he'd it's"),
              ElementsAre("don", "'t", " we", "'ll", " I", "'m", " you", "'re", " they", "'ve",
                          " he", "'d", " it", "'s"));
  EXPECT_THAT(Words("DON'T"), ElementsAre("DON", "'", "T"));
  EXPECT_THAT(Words("x''s"), ElementsAre("x", "''", "s"));
  EXPECT_THAT(Words(" 's"), ElementsAre(" '", "s"));
  EXPECT_THAT(Words("'"), ElementsAre("'"));
  EXPECT_THAT(Words("'l"), ElementsAre("'", "l"));
  // Numbers and letters are separate runs, each with at most one leading U+0020.
  EXPECT_THAT(Words("abc123 456def"), ElementsAre("abc", "123", " 456", "def"));
  EXPECT_THAT(Words("a?!b ...c"), ElementsAre("a", "?!", "b", " ...", "c"));
  // Whitespace: a run before a word leaves its last space to the word.
  EXPECT_THAT(Words("   x"), ElementsAre("  ", " x"));
  EXPECT_THAT(Words("x   "), ElementsAre("x", "   "));
  EXPECT_THAT(Words(" "), ElementsAre(" "));
  EXPECT_THAT(Words("a\n\nb"), ElementsAre("a", "\n", "\n", "b"));
  EXPECT_THAT(Words("a\nb"), ElementsAre("a", "\n", "b"));
  EXPECT_THAT(Words("\n\n"), ElementsAre("\n\n"));
  EXPECT_THAT(Words("a \n b"), ElementsAre("a", " \n", " b"));
  EXPECT_THAT(Words("\t\tx"), ElementsAre("\t", "\t", "x"));
}

TEST(Gpt2PreTokenizer, UnicodeCategories) {
  // Letters (Lo, Ll with accents), numbers (Nd, No), marks and symbols are "other".
  EXPECT_THAT(Words("日本語 café"), ElementsAre("日本語", " café"));
  EXPECT_THAT(Words("x²٣"), ElementsAre("x", "²٣"));
  EXPECT_THAT(Words("e\u0301"), ElementsAre("e", "\u0301"));
  EXPECT_THAT(Words("a 🦙🚀!"), ElementsAre("a", " 🦙🚀!"));
  // \s is White_Space: NBSP, U+3000, U+2028, U+0085 and \v \f are spaces; ZWSP (Cf) and
  // U+FEFF are not.
  EXPECT_THAT(Words("a\u00A0b"), ElementsAre("a", "\u00A0", "b"));
  EXPECT_THAT(Words("a\u3000\u3000b"), ElementsAre("a", "\u3000", "\u3000", "b"));
  EXPECT_THAT(Words("a\u2028\u0085\v\f"), ElementsAre("a", "\u2028\u0085\v\f"));
  EXPECT_THAT(Words("a\u200Bb"), ElementsAre("a", "\u200B", "b"));
  EXPECT_THAT(Words(" \uFEFF"), ElementsAre(" \uFEFF"));
  EXPECT_THAT(Words(std::string("a\0b", 3)), ElementsAre("a", std::string(1, '\0'), "b"));
}

TEST(Gpt2PreTokenizer, WordsCoverTheTextExactly) {
  const std::vector<std::string> alphabet = {"a", "Z", "1", " ", "  ", "\n", "\t", "'", "s",
                                             "re", "é", "日", "²", "🦙", "\u3000", "\u00A0", ","};
  std::mt19937 rng(7);
  for (int iter = 0; iter < 500; ++iter) {
    std::string text;
    const int n = rng() % 20;
    for (int i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
    const auto words = Words(text);
    EXPECT_EQ(absl::StrJoin(words, ""), text);
    for (const auto& w : words) EXPECT_FALSE(w.empty());
  }
}

// a b c, with "b c" ranked before "a b", and "a a" for tie-breaking.
TinyVocab MergeVocab() {
  TinyVocab v;
  v.extra = {"bc", "ab", "aa", "abc", "aaaa"};
  v.merges = {{"b", "c"}, {"a", "b"}, {"a", "a"}, {"a", "bc"}, {"aa", "aa"}};
  return v;
}

std::vector<int32_t> Encode(const Tokenizer& t, std::string_view text, bool parse_special = false) {
  std::vector<int32_t> ids;
  EncodeOptions options;
  options.parse_special = parse_special;
  absl::Status s = t.Encode(text, options, &ids);
  EXPECT_TRUE(s.ok()) << s;
  return ids;
}

TEST(ByteLevelBpe, MergesApplyByRankThenLeftmost) {
  const TinyVocab v = MergeVocab();
  auto hf = Gpt2FromJson(TinyTokenizerJson(v));
  const std::string gguf_bytes = TinyGgufBytes(v);
  auto gguf = Gpt2FromGgufBytes(gguf_bytes);
  ASSERT_TRUE(hf.ok()) << hf.status();
  ASSERT_TRUE(gguf.ok()) << gguf.status();
  for (const Tokenizer* t : {hf->get(), gguf->get()}) {
    EXPECT_THAT(Encode(*t, "abc"), ElementsAre(v.ExtraId(3)));  // b+c, then a+bc
    EXPECT_THAT(Encode(*t, "ab"), ElementsAre(v.ExtraId(1)));
    EXPECT_THAT(Encode(*t, "aaa"), ElementsAre(v.ExtraId(2), 'a'));  // leftmost pair first
    EXPECT_THAT(Encode(*t, "aaaa"), ElementsAre(v.ExtraId(4)));
    EXPECT_THAT(Encode(*t, "aaaaa"), ElementsAre(v.ExtraId(4), 'a'));
    EXPECT_THAT(Encode(*t, "x"), ElementsAre('x'));
    EXPECT_THAT(Encode(*t, "abc abc"), ElementsAre(v.ExtraId(3), ' ', v.ExtraId(3)));
    EXPECT_EQ(t->n_tokens(), 261);
  }
}

TEST(ByteLevelBpe, LongWordsAreNotQuadratic) {
  const TinyVocab v = MergeVocab();
  auto t = Gpt2FromJson(TinyTokenizerJson(v));
  ASSERT_TRUE(t.ok());
  // One 400 KB word: a heap-driven merge finishes in well under a second.
  const std::string text(400000, 'a');
  const auto ids = Encode(**t, text);
  ASSERT_EQ(ids.size(), 100000u);
  for (int32_t id : ids) ASSERT_EQ(id, v.ExtraId(4));
  // Twice, so that the second call may use the word cache; the result must not change.
  EXPECT_EQ(Encode(**t, text), ids);
}

TinyVocab AddedVocab() {
  TinyVocab v;
  v.added = {{"ab", false, true}, {"bcd", false, true}, {"<|x|>", true, false}};
  return v;
}

TEST(ByteLevelBpe, AddedTokenMatchingFollowsEachReference) {
  const TinyVocab v = AddedVocab();
  auto hf = Gpt2FromJson(TinyTokenizerJson(v));
  const std::string gguf_bytes = TinyGgufBytes(v);
  auto gguf = Gpt2FromGgufBytes(gguf_bytes);
  ASSERT_TRUE(hf.ok()) << hf.status();
  ASSERT_TRUE(gguf.ok()) << gguf.status();
  const int32_t ab = v.AddedId(0), bcd = v.AddedId(1), x = v.AddedId(2);
  // HF: leftmost-longest. llama.cpp: the longest token first, everywhere.
  EXPECT_THAT(Encode(**hf, "abcd"), ElementsAre(ab, 'c', 'd'));
  EXPECT_THAT(Encode(**gguf, "abcd"), ElementsAre('a', bcd));
  EXPECT_THAT(Encode(**hf, "zabz"), ElementsAre('z', ab, 'z'));
  EXPECT_THAT(Encode(**gguf, "zabz"), ElementsAre('z', ab, 'z'));
  // Special (control) tokens only with parse_special; the others always.
  for (const Tokenizer* t : {hf->get(), gguf->get()}) {
    EXPECT_THAT(Encode(*t, "<|x|>ab", true), ElementsAre(x, ab));
    EXPECT_THAT(Encode(*t, "<|x|>ab", false), ElementsAre('<', '|', 'x', '|', '>', ab));
    EXPECT_TRUE(t->IsControl(x));
    EXPECT_FALSE(t->IsControl(ab));
  }
}

TEST(ByteLevelBpe, HfMatchesNonNormalizedTokensFirst) {
  TinyVocab v;
  v.added = {{"abc", false, true}, {"ab", false, false}};
  auto hf = Gpt2FromJson(TinyTokenizerJson(v));
  ASSERT_TRUE(hf.ok()) << hf.status();
  // "ab" (normalized: false) is split out before "abc" (normalized: true) is looked for.
  EXPECT_THAT(Encode(**hf, "abc"), ElementsAre(v.AddedId(1), 'c'));
}

TEST(ByteLevelBpe, HfAddPrefixSpace) {
  TinyVocab v;
  v.added = {{"<|x|>", true, false}};
  nlohmann::json j = TinyTokenizerJson(v);
  j["pre_tokenizer"]["add_prefix_space"] = true;
  auto t = Gpt2FromJson(j);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Encode(**t, "a"), ElementsAre(' ', 'a'));
  EXPECT_THAT(Encode(**t, " a"), ElementsAre(' ', 'a'));
  // Every fragment between added tokens gets its own prefix space.
  EXPECT_THAT(Encode(**t, "a<|x|>b", true), ElementsAre(' ', 'a', v.AddedId(0), ' ', 'b'));
}

std::string Decode(const Tokenizer& t, const std::vector<int32_t>& ids) {
  std::string out;
  absl::Status s = t.Decode(ids, false, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(ByteLevelBpe, LlamaCppDecodeCleansUpSpaces) {
  TinyVocab v;
  auto hf = Gpt2FromJson(TinyTokenizerJson(v));
  const std::string gguf_bytes = TinyGgufBytes(v);
  auto gguf = Gpt2FromGgufBytes(gguf_bytes);
  ASSERT_TRUE(hf.ok() && gguf.ok());
  auto bytes_of = [](std::string_view s) { return std::vector<int32_t>(s.begin(), s.end()); };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"end .", "end."},
      {"a ,b ,c", "a,b,c"},
      {" ?", "?"},
      {"x  !", "x !"},
      {"it ' s", "it's"},
      {" ' ' ", "'' "},
      {"'s 't 're 've 'm 'll 'd", "'s 't're've'm 'll 'd"},
      {"a 'sx", "a'sx"},
      {"a 're", "a're"},
      {"a 'r", "a 'r"},
      {"a '", "a '"},
      {"plain text", "plain text"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(Decode(**gguf, bytes_of(in)), want) << in;
    EXPECT_EQ(Decode(**hf, bytes_of(in)), in);  // HF's decoder leaves spaces alone
  }
}

TEST(ByteLevelBpe, InvalidInputs) {
  auto t = Gpt2FromJson(TinyTokenizerJson(AddedVocab()));
  ASSERT_TRUE(t.ok());
  std::vector<int32_t> ids;
  EXPECT_TRUE(IsInvalidUtf8((*t)->Encode("ok\x80", EncodeOptions{}, &ids)));
  EncodeOptions with_bos;
  with_bos.add_bos = true;
  EXPECT_EQ((*t)->Encode("a", with_bos, &ids).code(), absl::StatusCode::kInvalidArgument);
  std::string out;
  EXPECT_TRUE(IsInvalidToken((*t)->Decode({0, 259}, false, &out)));
  EXPECT_TRUE(IsInvalidToken((*t)->TokenBytes(-5, false, &out)));
}

TEST(ByteLevelBpe, ConcurrentEncodesAgree) {
  auto t = Gpt2FromJson(TinyTokenizerJson(MergeVocab()));
  ASSERT_TRUE(t.ok());
  std::string text;
  for (int i = 0; i < 2000; ++i) text += (i % 3 ? " abc" : " aaaaab\n");
  const auto want = Encode(**t, text);
  std::vector<std::vector<int32_t>> got(4);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 5; ++rep) (void)(*t)->Encode(text, EncodeOptions{}, &got[k]);
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& ids : got) EXPECT_THAT(ids, ElementsAreArray(want));
}

}  // namespace
}  // namespace ember
