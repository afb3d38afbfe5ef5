// The merge machinery on its own and against a naive reference: random vocabularies and
// texts encoded by both tokenizers (which cut text at MergeBoundaries and cache pieces)
// must equal a quadratic "merge the best adjacent pair, leftmost first" loop over the whole
// text.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "lib/base/mapped_file.h"
#include "lib/format/gguf.h"
#include "lib/format/gguf_writer.h"
#include "lib/tokenizer/merge_boundaries.h"
#include "lib/tokenizer/spm_tokenizer.h"
#include "lib/tokenizer/symbol_merge.h"
#include "lib/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"

namespace ember {
namespace {

const std::string kMarker = "\xE2\x96\x81";  // ▁

TEST(MergeBoundaries, CutsOnlyBetweenPairsNoTokenContains) {
  MergeBoundaries b({"ab", "bc", kMarker + "x"});
  std::vector<std::string> pieces;
  b.Split("abcdab" + kMarker + "xa", [&](std::string_view p) { pieces.emplace_back(p); });
  EXPECT_EQ(pieces, (std::vector<std::string>{"abc", "d", "ab", kMarker + "x", "a"}));
  pieces.clear();
  b.Split("", [&](std::string_view p) { pieces.emplace_back(p); });
  EXPECT_TRUE(pieces.empty());
}

TEST(MergeSymbols, SkipsStalePairs) {
  // Text "abc"; pairs ab (priority 1) and bc (priority 0): bc merges first, which makes the
  // queued "ab" stale; then a+bc is offered with priority 2.
  const std::string text = "abc";
  std::vector<MergeSymbol> symbols(3);
  for (int i = 0; i < 3; ++i) {
    symbols[i].start = i;
    symbols[i].length = 1;
    symbols[i].prev = i - 1;
    symbols[i].next = i < 2 ? i + 1 : -1;
    symbols[i].id = 100 + i;
  }
  const std::map<std::string, std::pair<float, int32_t>> pairs = {
      {"ab", {1, 10}}, {"bc", {0, 11}}, {"abc", {2, 12}}};
  std::vector<MergeCandidate> heap;
  int merges = 0;
  MergeSymbols(
      symbols,
      [&](const MergeSymbol& l, const MergeSymbol& r, MergeCandidate* c) {
        const auto it = pairs.find(text.substr(l.start, l.length + r.length));
        if (it == pairs.end()) return false;
        c->priority = it->second.first;
        c->id = it->second.second;
        ++merges;
        return true;
      },
      heap);
  EXPECT_EQ(symbols[0].length, 3u);
  EXPECT_EQ(symbols[0].id, 12);
  EXPECT_EQ(symbols[0].next, -1);
  EXPECT_EQ(symbols[1].length, 0u);
  EXPECT_EQ(merges, 3);  // ab, bc queued at start; a+bc after the first merge
}

// ---- Random vocabularies against a naive reference ---------------------------------------

struct RandomVocab {
  std::vector<std::string> tokens;  // id order
  std::vector<float> scores;
  std::vector<int32_t> types;
  // HF: merges in rank order (left, right), each forming a token.
  std::vector<std::pair<std::string, std::string>> merges;
};

// Characters: a, b, c, ▁ (c has no token of its own: only its byte token).
RandomVocab MakeVocab(std::mt19937& rng) {
  RandomVocab v;
  const auto add = [&](const std::string& t, float score, int32_t type) {
    for (const std::string& existing : v.tokens) {
      if (existing == t) return false;
    }
    v.tokens.push_back(t);
    v.scores.push_back(score);
    v.types.push_back(type);
    return true;
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  add("<0x63>", 0, 6);
  const std::vector<std::string> base = {"a", "b", kMarker};
  for (const auto& c : base) add(c, -10, 1);
  std::uniform_int_distribution<int> pick_score(-50, 0);
  // Merged tokens: concatenations of two existing non-special tokens.
  std::vector<std::string> pool = base;
  pool.push_back("c");  // may appear inside longer tokens
  const int n_merges = std::uniform_int_distribution<int>(3, 14)(rng);
  for (int k = 0; k < n_merges; ++k) {
    const std::string l = pool[rng() % pool.size()];
    const std::string r = pool[rng() % pool.size()];
    // Ties are frequent on purpose (few distinct scores).
    if (add(l + r, static_cast<float>(pick_score(rng) / 10), 1)) {
      pool.push_back(l + r);
      v.merges.emplace_back(l, r);
    }
  }
  return v;
}

std::string RandomText(std::mt19937& rng) {
  const std::vector<std::string> chars = {"a", "b", "c", " ", kMarker};
  std::string s;
  const int n = std::uniform_int_distribution<int>(0, 24)(rng);
  for (int i = 0; i < n; ++i) s += chars[rng() % chars.size()];
  return s;
}

int32_t FindToken(const RandomVocab& v, const std::string& t) {
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i] == t) return static_cast<int32_t>(i);
  }
  return -1;
}

std::vector<std::string> SplitChars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = (static_cast<uint8_t>(s[i]) >= 0xE0) ? 3 : 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// llama.cpp semantics, quadratically: merge the adjacent pair forming the best-scored token,
// leftmost on ties; leftovers go to byte tokens, else <unk>.
std::vector<int32_t> NaiveScoreBpe(const RandomVocab& v, const std::string& escaped) {
  std::vector<std::string> sym = SplitChars(escaped);
  while (true) {
    int best = -1;
    float best_score = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      const int32_t id = FindToken(v, sym[i] + sym[i + 1]);
      if (id >= 0 && (best < 0 || v.scores[id] > best_score)) {
        best = static_cast<int>(i);
        best_score = v.scores[id];
      }
    }
    if (best < 0) break;
    sym[best] += sym[best + 1];
    sym.erase(sym.begin() + best + 1);
  }
  std::vector<int32_t> ids;
  for (const std::string& s : sym) {
    const int32_t id = FindToken(v, s);
    if (id >= 0) {
      ids.push_back(id);
    } else {
      for (char c : s) ids.push_back(c == 'c' ? FindToken(v, "<0x63>") : 0);
    }
  }
  return ids;
}

// HF semantics, quadratically: merge the adjacent pair with the lowest merge rank, leftmost.
std::vector<int32_t> NaiveRankBpe(const RandomVocab& v, const std::string& word) {
  std::vector<std::string> sym = SplitChars(word);
  for (std::string& s : sym) {
    if (s == "c") s = "<0x63>";  // byte fallback
  }
  while (true) {
    int best = -1;
    size_t best_rank = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      for (size_t rank = 0; rank < v.merges.size(); ++rank) {
        if (v.merges[rank].first == sym[i] && v.merges[rank].second == sym[i + 1]) {
          if (best < 0 || rank < best_rank) {
            best = static_cast<int>(i);
            best_rank = rank;
          }
          break;
        }
      }
    }
    if (best < 0) break;
    sym[best] += sym[best + 1];
    sym.erase(sym.begin() + best + 1);
  }
  std::vector<int32_t> ids;
  for (const std::string& s : sym) {
    const int32_t id = FindToken(v, s);
    ids.push_back(id >= 0 ? id : 0);  // a space: no token, no byte token -> <unk> (not fused)
  }
  return ids;
}

std::string Escape(const std::string& text) {
  std::string out = text.empty() ? "" : kMarker;  // llama.cpp's prefix space
  for (char c : text) {
    if (c == ' ') {
      out += kMarker;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

TEST(RandomVocabs, GgufScoreMergesMatchNaiveReference) {
  std::mt19937 rng(1234);
  int compared = 0;
  for (int round = 0; round < 150; ++round) {
    const RandomVocab v = MakeVocab(rng);
    GgufWriter w;
    w.AddString("tokenizer.ggml.model", "llama");
    w.AddStringArray("tokenizer.ggml.tokens", v.tokens);
    w.AddFloat32Array("tokenizer.ggml.scores", v.scores);
    w.AddInt32Array("tokenizer.ggml.token_type", v.types);
    auto bytes = w.ToBytes();
    ASSERT_TRUE(bytes.ok());
    auto gguf = GgufFile::Parse(MappedFile::FromBuffer(
        absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size())));
    ASSERT_TRUE(gguf.ok()) << gguf.status();
    auto tokenizer = TokenizerFromGguf(**gguf);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    for (int k = 0; k < 40; ++k) {
      // Repeat the text so that the piece cache is hit too.
      std::string text = RandomText(rng);
      text += " " + text;
      std::vector<int32_t> ids;
      ASSERT_TRUE((*tokenizer)->Encode(text, EncodeOptions(), &ids).ok());
      ASSERT_EQ(ids, NaiveScoreBpe(v, Escape(text)))
          << "text \"" << absl::CHexEscape(text) << "\" round " << round;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 150 * 40);
}

TEST(RandomVocabs, HfRankMergesMatchNaiveReference) {
  std::mt19937 rng(5678);
  for (int round = 0; round < 150; ++round) {
    const RandomVocab v = MakeVocab(rng);
    nlohmann::json j;
    j["model"]["type"] = "BPE";
    j["model"]["byte_fallback"] = true;
    j["model"]["unk_token"] = "<unk>";
    for (size_t i = 0; i < v.tokens.size(); ++i) j["model"]["vocab"][v.tokens[i]] = i;
    j["model"]["merges"] = nlohmann::json::array();
    for (const auto& [l, r] : v.merges) {
      // "c" is not a token: merges with it can never apply, and HF rejects them.
      if (FindToken(v, l) < 0 || FindToken(v, r) < 0) continue;
      j["model"]["merges"].push_back(nlohmann::json::array({l, r}));
    }
    RandomVocab valid = v;
    valid.merges.clear();
    for (const auto& m : j["model"]["merges"]) valid.merges.emplace_back(m[0], m[1]);
    auto tokenizer = CreateSpmTokenizerFromHfJson(j, nlohmann::json::object(), "random.json");
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    for (int k = 0; k < 40; ++k) {
      std::string text = RandomText(rng);
      text += "b" + text;
      std::vector<int32_t> ids;
      ASSERT_TRUE((*tokenizer)->Encode(text, EncodeOptions(), &ids).ok());
      ASSERT_EQ(ids, NaiveRankBpe(valid, text))
          << "text \"" << absl::CHexEscape(text) << "\" round " << round;
    }
  }
}

}  // namespace
}  // namespace ember
