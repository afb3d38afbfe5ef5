// Masks inside bounded repetitions (maxLength, maxItems, {m,n}, JSON mode's bounded
// whitespace), where every character moves to a new count state and the mask scan takes
// shortcuts (whole trie subtrees accepted by a state's run, transitions shared by bytes that
// step alike): at every position of many walks the mask must equal the straightforward
// answer, each token's bytes stepped one by one from the current state on a separate Matcher,
// and that Matcher must agree with a reference that runs the Program with no interning or
// memoisation at all.
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

namespace ember::grammar {
namespace {

// ---- Reference: the Program's pushdown semantics, stacks as plain position vectors.

struct RefState {
  std::set<std::vector<int32_t>> stacks;  // each stack's top (back) is a kBytes element
  bool accepting = false;
  bool alive() const { return accepting || !stacks.empty(); }
};

void RefClose(const Program& p, std::vector<int32_t> start, RefState* out) {
  std::vector<std::vector<int32_t>> work = {std::move(start)};
  std::set<std::vector<int32_t>> seen;
  while (!work.empty()) {
    std::vector<int32_t> st = std::move(work.back());
    work.pop_back();
    if (!seen.insert(st).second) continue;
    if (st.empty()) {
      out->accepting = true;
      continue;
    }
    const int32_t pos = st.back();
    const Element& e = p.elements[pos];
    if (e.kind == Element::kBytes) {
      out->stacks.insert(st);
    } else if (e.kind == Element::kEnd) {
      st.pop_back();  // back to the caller's return position
      work.push_back(std::move(st));
    } else {
      st.back() = pos + 1;
      for (int32_t alt : p.rule_alts[e.arg]) {
        std::vector<int32_t> call = st;
        call.push_back(alt);
        work.push_back(std::move(call));
      }
    }
  }
}

// The bytes that may come next.
ByteSet RefNextBytes(const Program& p, const RefState& s) {
  ByteSet next;
  for (const std::vector<int32_t>& st : s.stacks) next.Or(p.byte_sets[p.elements[st.back()].arg]);
  return next;
}

RefState RefInitial(const Program& p) {
  RefState s;
  for (int32_t alt : p.rule_alts[p.root]) RefClose(p, {alt}, &s);
  return s;
}

RefState RefStep(const Program& p, const RefState& s, uint8_t byte) {
  RefState next;
  for (const std::vector<int32_t>& st : s.stacks) {
    if (!p.byte_sets[p.elements[st.back()].arg].Test(byte)) continue;
    std::vector<int32_t> moved = st;
    moved.back() += 1;
    RefClose(p, std::move(moved), &next);
  }
  return next;
}

// ---- Grammars with bounded repetitions.

std::shared_ptr<const Program> Compile(GrammarKind kind, const std::string& text) {
  absl::StatusOr<std::shared_ptr<const Program>> p = CompileConstraint(kind, text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return p.ok() ? *p : nullptr;
}

// The shape of bench/grammar_mask_bench.cc's schema.
constexpr char kBenchSchema[] = R"({
  "type": "object",
  "properties": {
    "id": {"type": "string", "format": "uuid"},
    "name": {"type": "string", "minLength": 1, "maxLength": 64},
    "status": {"enum": ["active", "suspended", "deleted"]},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
    "orders": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "quantity": {"type": "integer", "minimum": 1}},
      "required": ["sku", "quantity"]}}
  },
  "required": ["id", "name", "status", "orders"],
  "additionalProperties": false
})";

constexpr char kShortBoundsSchema[] = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 2, "maxLength": 30},
    "code": {"type": "string", "maxLength": 6},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "minItems": 1, "maxItems": 5}
  },
  "required": ["name", "tags"],
  "additionalProperties": false
})";

struct NamedGrammar {
  const char* name;
  GrammarKind kind;
  std::string text;
};

std::vector<NamedGrammar> BoundedGrammars() {
  return {
      {"short bounds schema", GrammarKind::kJsonSchema, kShortBoundsSchema},
      {"bench schema", GrammarKind::kJsonSchema, kBenchSchema},
      {"json mode", GrammarKind::kJsonObject, ""},
      {"gbnf counts", GrammarKind::kGbnf,
       "root ::= (\"\\\"\" ([a-e \\u00e9\\u20ac] | \"\\\\\" [n\"]){0,40} \"\\\"\" [ ]{0,3}){1,4} [ ]{0,20} \"!\"\n"},
      {"gbnf nested counts", GrammarKind::kGbnf, "root ::= (\"[\" [ab]{2,9} ([ ]{1,5} [abc]{0,7}){0,6} \"]\"){0,5}\n"},
      // Overlapping byte sets: a byte may be accepted by one stack or by several.
      {"gbnf overlaps", GrammarKind::kGbnf, "root ::= ([a-c]{0,6} \"x\" | [b-e]+ \"y\" | \"b\" [a-e]{0,3} \"!\" | [ace ]{2,30} \"!\"){1,3}\n"},
  };
}

// ---- The Matcher against the reference, on random walks over a small alphabet.

TEST(CountStates, MatcherStepsAgreeWithTheReference) {
  // Bytes the grammars care about, UTF-8 pieces of é and € included.
  const std::string alphabet = "abcde n\"\\[]{}:,!0123xy\n\xC3\xA9\xE2\x82\xAC";
  std::mt19937 rng(3);
  for (const NamedGrammar& g : BoundedGrammars()) {
    auto p = Compile(g.kind, g.text);
    ASSERT_NE(p, nullptr);
    for (int walk = 0; walk < 6; ++walk) {
      Matcher m(p);
      int32_t s = m.initial();
      RefState ref = RefInitial(*p);
      std::string text;
      for (int step = 0; step < 90; ++step) {
        ASSERT_EQ(m.IsAccepting(s), ref.accepting) << g.name << " after '" << text << "'";
        ASSERT_TRUE(m.NextBytes(s) == RefNextBytes(*p, ref)) << g.name << " after '" << text << "'";
        std::vector<uint8_t> alive;
        std::vector<RefState> nexts;
        for (char c : alphabet) {
          const uint8_t b = static_cast<uint8_t>(c);
          RefState next = RefStep(*p, ref, b);
          const int32_t ms = m.Step(s, b);
          ASSERT_EQ(ms != Matcher::kDead, next.alive()) << g.name << " after '" << text << "' byte " << int{b};
          if (next.alive()) {
            // The same successor, not just a live one: what may follow and whether it is complete.
            ASSERT_TRUE(m.NextBytes(ms) == RefNextBytes(*p, next)) << g.name << " after '" << text << "' byte " << int{b};
            ASSERT_EQ(m.IsAccepting(ms), next.accepting) << g.name << " after '" << text << "' byte " << int{b};
            alive.push_back(b);
            nexts.push_back(std::move(next));
          }
        }
        if (alive.empty()) break;
        const size_t pick = rng() % alive.size();
        s = m.Step(s, alive[pick]);
        ref = std::move(nexts[pick]);
        text += static_cast<char>(alive[pick]);
      }
    }
  }
}

// ---- Masks against per-token stepping.

// Steps a ComputeMask'ed constraint and a reference Matcher side by side; at every position
// the mask must hold exactly the tokens whose bytes the reference can step (and EOS iff
// complete). Returns the allowed tokens of the last mask.
class MaskChecker {
 public:
  MaskChecker(std::shared_ptr<const Program> p, std::shared_ptr<const TokenTrie> trie)
      : trie_(trie), constraint_(p, trie), reference_(p), state_(reference_.initial()) {}

  // Checks the current mask; fills `allowed` (EOS excluded).
  void Check(const std::string& where, std::vector<int32_t>* allowed) {
    TokenMask mask;
    constraint_.ComputeMask(&mask);
    allowed->clear();
    for (int32_t id = 0; id < trie_->n_vocab(); ++id) {
      if (id == trie_->eos()) {
        ASSERT_EQ(mask.Test(id), reference_.IsAccepting(state_)) << where << ": EOS";
        continue;
      }
      const std::string& bytes = trie_->token_bytes(id);
      const bool expect = !bytes.empty() && reference_.StepBytes(state_, bytes) != Matcher::kDead;
      ASSERT_EQ(mask.Test(id), expect) << where << ": token " << id << " '" << bytes << "'";
      if (expect) allowed->push_back(id);
    }
  }
  void Accept(int32_t id) {
    ASSERT_TRUE(constraint_.Accept(id).ok());
    state_ = reference_.StepBytes(state_, trie_->token_bytes(id));
    text_ += trie_->token_bytes(id);
  }
  // Back to the empty text; the constraint keeps its caches.
  void Reset() {
    constraint_.Reset();
    state_ = reference_.initial();
    text_.clear();
  }
  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<const TokenTrie> trie_;
  GrammarConstraint constraint_;
  Matcher reference_;
  int32_t state_;
  std::string text_;
};

// A vocabulary with large trie subtrees (so whole-subtree shortcuts apply), of every height,
// and tokens longer than the bounds (runs of letters and spaces up to 48 bytes).
std::vector<std::string> SyntheticVocabulary() {
  std::mt19937 rng(5);
  const std::vector<std::string> pieces = {"a", "b", "c", "d", "e", "a", "b", "e", " ", " ", "\"", "\\",
                                           "n", "\xC3\xA9", "\xE2\x82\xAC", ",", ":", "{", "}", "[", "]",
                                           "\n", "1", "!"};
  std::set<std::string> tokens;
  while (tokens.size() < 2500) {
    std::string t;
    const int len = 1 + static_cast<int>(rng() % 7);
    for (int j = 0; j < len; ++j) t += pieces[rng() % pieces.size()];
    tokens.insert(t);
  }
  // Every string of up to 5 letters from {a, b, c}: subtrees of every height from 1 to 4
  // made of ordinary characters only, for bounds that run out in the middle of them.
  std::vector<std::string> level = {""};
  for (int len = 1; len <= 5; ++len) {
    std::vector<std::string> longer;
    for (const std::string& t : level) {
      for (char c : {'a', 'b', 'c'}) longer.push_back(t + c);
    }
    tokens.insert(longer.begin(), longer.end());
    level = std::move(longer);
  }
  for (int n = 2; n <= 48; ++n) {
    tokens.insert(std::string(n, 'a'));
    tokens.insert(std::string(n, ' '));
    tokens.insert("\n" + std::string(n, ' '));
    tokens.insert("b" + std::string(n, 'e'));
  }
  for (const char* t : {"{\"", "\":", "\": \"", "\",", "\", \"", "\"]", "\"}", "name", "code", "tags", "\"name\":\"",
                        "\"tags\":[\"", "{\"name\":\"", "\xC3", "\xA9", "\xE2\x82"}) {
    tokens.insert(t);
  }
  std::vector<std::string> vocab = {""};  // id 0: EOS
  vocab.insert(vocab.end(), tokens.begin(), tokens.end());
  return vocab;
}

TEST(CountStates, MasksOnRandomWalksEqualPerTokenStepping) {
  auto trie = TokenTrie::FromStrings(SyntheticVocabulary(), /*eos=*/0);
  std::mt19937 rng(9);
  int checked = 0;
  for (const NamedGrammar& g : BoundedGrammars()) {
    auto p = Compile(g.kind, g.text);
    ASSERT_NE(p, nullptr);
    // One constraint per walk, then one constraint for several walks (its caches carry over).
    for (bool shared : {false, true}) {
      auto checker = std::make_unique<MaskChecker>(p, trie);
      for (int walk = 0; walk < 5; ++walk) {
        if (shared) {
          checker->Reset();
        } else {
          checker = std::make_unique<MaskChecker>(p, trie);
        }
        MaskChecker& c = *checker;
        std::vector<int32_t> allowed;
        for (int step = 0; step < 60; ++step) {
          ASSERT_NO_FATAL_FAILURE(c.Check(std::string(g.name) + " after '" + c.text() + "'", &allowed));
          ++checked;
          if (allowed.empty()) break;
          // Mostly short tokens, so that walks go deep into the counts.
          int32_t pick = allowed[rng() % allowed.size()];
          for (int tries = 0; tries < 3 && trie->token_bytes(pick).size() > 2; ++tries) {
            pick = allowed[rng() % allowed.size()];
          }
          ASSERT_NO_FATAL_FAILURE(c.Accept(pick));
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

// ---- The real Phi-2 vocabulary (51,200 rows, tokens up to 128 bytes).

constexpr char kBenchInstance[] =
    R"({"id":"3f2b9c1e-8d4a-4b6e-9f0a-1c2d3e4f5a6b","name":"Ada Lovelace, Countess of Lovelace",)"
    R"("status":"active","age":36,"tags":["math","engines","poetry of science"],)"
    R"("orders":[{"sku":"ABC-1234","quantity":2},{"sku":"XYZ-0001","quantity":1}]})";

constexpr char kShortBoundsInstance[] =
    R"({"name":"Grace Brewster Hopper, USN","code":"A\"1 \u00e9","tags":["cobol","x","compiler","\u20ac\u20ac","navy"]})";

constexpr char kPrettyInstance[] = "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"text\\n with\\\\ escapes\"\n"
                                   "    }\n  ],\n\t\"c\": null,\n                         \"d\": true\n}";

TEST(CountStates, Phi2MasksAlongInstancesEqualPerTokenStepping) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok =
      TokenizerFromHfDir(::ember::testing::TestDataPath("models/tiny-phi2"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  absl::StatusOr<std::shared_ptr<const TokenTrie>> trie = TokenTrie::Build(**tok, (*tok)->n_tokens());
  ASSERT_TRUE(trie.ok());
  const struct {
    GrammarKind kind;
    const char* grammar;
    const char* text;
  } cases[] = {
      {GrammarKind::kJsonSchema, kBenchSchema, kBenchInstance},
      {GrammarKind::kJsonSchema, kShortBoundsSchema, kShortBoundsInstance},
      {GrammarKind::kJsonObject, "", kPrettyInstance},
  };
  for (const auto& tc : cases) {
    auto p = Compile(tc.kind, tc.grammar);
    ASSERT_NE(p, nullptr);
    std::vector<int32_t> ids;
    ASSERT_TRUE((*tok)->Encode(tc.text, EncodeOptions{}, &ids).ok());
    SCOPED_TRACE(tc.text);
    MaskChecker c(p, *trie);
    std::vector<int32_t> allowed;
    for (int32_t id : ids) {
      ASSERT_NO_FATAL_FAILURE(c.Check("after '" + c.text() + "'", &allowed));
      ASSERT_NO_FATAL_FAILURE(c.Accept(id));
    }
    ASSERT_NO_FATAL_FAILURE(c.Check("at the end", &allowed));
    EXPECT_EQ(c.text(), tc.text);
  }
  // JSON mode driven by random tokens: partial UTF-8, escapes, whitespace runs, nesting.
  auto json_mode = Compile(GrammarKind::kJsonObject, "");
  std::mt19937 rng(13);
  MaskChecker c(json_mode, *trie);
  std::vector<int32_t> allowed;
  for (int step = 0; step < 80; ++step) {
    ASSERT_NO_FATAL_FAILURE(c.Check("random walk after '" + c.text() + "'", &allowed));
    if (allowed.empty()) break;
    ASSERT_NO_FATAL_FAILURE(c.Accept(allowed[rng() % allowed.size()]));
  }
}

}  // namespace
}  // namespace ember::grammar
