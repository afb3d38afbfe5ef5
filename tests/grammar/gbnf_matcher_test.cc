// GBNF parsing and the byte-level matcher: languages, errors with positions, limits, and
// token masks against a brute-force check over small vocabularies.
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/grammar/grammar_constraint.h"

namespace ember::grammar {
namespace {

std::shared_ptr<const Program> Gbnf(const std::string& text) {
  absl::StatusOr<std::shared_ptr<const Program>> p = CompileConstraint(GrammarKind::kGbnf, text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}

std::string GbnfError(const std::string& text) {
  absl::StatusOr<std::shared_ptr<const Program>> p = CompileConstraint(GrammarKind::kGbnf, text);
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? "" : std::string(p.status().message());
}

// Whether `text` is a complete sentence (bytes fed one by one).
bool Matches(const std::shared_ptr<const Program>& p, const std::string& text) {
  Matcher m(p);
  int32_t s = m.StepBytes(m.initial(), text);
  return s != Matcher::kDead && m.IsAccepting(s);
}
bool IsPrefix(const std::shared_ptr<const Program>& p, const std::string& text) {
  Matcher m(p);
  return m.StepBytes(m.initial(), text) != Matcher::kDead;
}

TEST(Gbnf, LiteralsAlternationGrouping) {
  auto p = Gbnf("root ::= \"a\" (\"b\" | \"cd\")* \"e\"\n");
  EXPECT_TRUE(Matches(p, "ae"));
  EXPECT_TRUE(Matches(p, "abcdbe"));
  EXPECT_FALSE(Matches(p, "ac"));
  EXPECT_FALSE(Matches(p, "abc"));
  EXPECT_TRUE(IsPrefix(p, "abc"));
  EXPECT_FALSE(IsPrefix(p, "ax"));
}

TEST(Gbnf, RepetitionCounts) {
  auto p = Gbnf("root ::= [0-9]{2,4} x? y+\nx ::= \"x\"\ny ::= \"y\"");
  EXPECT_FALSE(Matches(p, "1y"));
  EXPECT_TRUE(Matches(p, "12y"));
  EXPECT_TRUE(Matches(p, "1234xyy"));
  EXPECT_FALSE(Matches(p, "12345y"));
  EXPECT_FALSE(Matches(p, "12x"));
  auto exact = Gbnf("root ::= \"ab\"{3}");
  EXPECT_TRUE(Matches(exact, "ababab"));
  EXPECT_FALSE(Matches(exact, "abab"));
  auto open = Gbnf("root ::= \"a\"{2,}");
  EXPECT_FALSE(Matches(open, "a"));
  EXPECT_TRUE(Matches(open, "aaaaaaa"));
}

TEST(Gbnf, CharacterClassesAndEscapes) {
  auto p = Gbnf(R"(root ::= [^"\\\n]* "\x41\u00e9\U0001F600" [a-c\]] . [\u4e00-\u9fff])");
  EXPECT_TRUE(Matches(p, "hello A\xC3\xA9\xF0\x9F\x98\x80" "]\xE2\x82\xAC\xE4\xB8\xAD"));
  EXPECT_TRUE(Matches(p, "A\xC3\xA9\xF0\x9F\x98\x80" "bx\xE4\xB8\xAD"));
  EXPECT_FALSE(Matches(p, "\"A\xC3\xA9\xF0\x9F\x98\x80" "bx\xE4\xB8\xAD"));
  EXPECT_FALSE(Matches(p, "A\xC3\xA9\xF0\x9F\x98\x80" "dx\xE4\xB8\xAD"));
  // '.' is one character, not one byte; invalid UTF-8 never matches.
  EXPECT_FALSE(Matches(p, "A\xC3\xA9\xF0\x9F\x98\x80" "b\xFF\xE4\xB8\xAD"));
}

TEST(Gbnf, MultiLineRulesAndComments) {
  auto p = Gbnf(
      "# a comment\n"
      "root ::=\n"
      "  item\n"
      "  | \"[\" item (\",\" item)* \"]\"   # list\n"
      "item ::= [a-z]+\n");
  EXPECT_TRUE(Matches(p, "abc"));
  EXPECT_TRUE(Matches(p, "[a,bc]"));
  EXPECT_FALSE(Matches(p, "[a,]"));
}

TEST(Gbnf, RecursionIsFineLeftRecursionIsNot) {
  auto p = Gbnf("root ::= \"(\" root \")\" | \"x\"");
  EXPECT_TRUE(Matches(p, "((x))"));
  EXPECT_FALSE(Matches(p, "((x)"));
  EXPECT_NE(GbnfError("root ::= root \"a\" | \"b\"").find("left recursion"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= e root \"a\" | \"b\"\ne ::= \"\" | \"c\"").find("left recursion"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= (\"a\"?)*").find("left recursion"), std::string::npos);
}

TEST(Gbnf, ErrorsPointAtLineAndColumn) {
  EXPECT_NE(GbnfError("root ::= \"a\"\nfoo ::= bar").find("line 2, column 9: undefined rule 'bar'"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= \"a").find("line 1, column 10"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= [b-a]").find("line 1, column 10"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= \"\\q\"").find("unknown escape"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= (\"a\"").find("unclosed"), std::string::npos);
  EXPECT_NE(GbnfError("r ::= \"a\"").find("root"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= \"a\"\nroot ::= \"b\"").find("defined twice"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= \"a\"{5,2}").find("n < m"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= \"a\" x\nx ::= x").find("matches nothing"), std::string::npos);
  EXPECT_NE(GbnfError("root ::= [^\\x00-\\U0010FFFF]").find("no character"), std::string::npos);
}

TEST(Gbnf, HostileInputsFailWithinLimits) {
  EXPECT_NE(GbnfError("root ::= " + std::string(5000, '(') + "\"a\"" + std::string(5000, ')')).find("nesting"),
            std::string::npos);
  EXPECT_NE(GbnfError("root ::= \"a\"{1000000000}").find("limit"), std::string::npos);
  // Nested counts share their expansion: a^(10^9) is a few thousand elements, not 10^9.
  auto huge = Gbnf("root ::= ((\"a\"{1000}){1000}){1000}");
  EXPECT_LT(huge->elements.size(), 10000u);
  EXPECT_TRUE(IsPrefix(huge, std::string(5000, 'a')));
  EXPECT_FALSE(Matches(huge, std::string(5000, 'a')));
  // A language with no finite sentence.
  EXPECT_NE(GbnfError("root ::= \"a\" root").find("matches nothing"), std::string::npos);
  // Unreachable rules are not compiled (their problems do not matter).
  EXPECT_TRUE(Matches(Gbnf("root ::= \"a\"\nunused ::= unused \"b\""), "a"));
}

// Mask == brute force: a token is allowed iff its bytes extend the current prefix.
void CheckMasksAlongText(const std::shared_ptr<const Program>& p, const std::vector<std::string>& vocab,
                         const std::vector<int32_t>& path) {
  auto trie = TokenTrie::FromStrings(vocab, /*eos=*/0);
  GrammarConstraint c(p, trie);
  std::string prefix;
  for (size_t step = 0; step <= path.size(); ++step) {
    TokenMask mask;
    c.ComputeMask(&mask);
    for (int32_t id = 1; id < static_cast<int32_t>(vocab.size()); ++id) {
      const bool expect = !vocab[id].empty() && IsPrefix(p, prefix + vocab[id]);
      ASSERT_EQ(mask.Test(id), expect) << "step " << step << " token '" << vocab[id] << "'";
    }
    EXPECT_EQ(mask.Test(0), Matches(p, prefix));  // EOS iff complete
    if (step == path.size()) break;
    ASSERT_TRUE(c.Accept(path[step]).ok());
    prefix += vocab[path[step]];
  }
}

TEST(Matcher, MaskEqualsBruteForceWithMultiTerminalAndSplitUtf8Tokens) {
  auto p = Gbnf("root ::= \"{\" ws \"\\\"k\\\":\" ws [0-9]+ ws \"}\" ws \"é€\"\nws ::= [ ]?");
  std::vector<std::string> vocab = {"", "{", "{\"", "k", "\":", "\"k\":", " ", "1", "12", "3}", "}", "} ",
                                    "\xC3", "\xA9", "\xC3\xA9", "\xA9\xE2", "\x82\xAC", "\xE2\x82", "x", "{ \"k\": 5 }"};
  // {"k":12} é€ via tokens that span terminals and split characters.
  CheckMasksAlongText(p, vocab, {2, 3, 4, 8, 11, 12, 15, 16});
}

TEST(Matcher, RandomGrammarsAgreeWithBruteForce) {
  std::mt19937 rng(7);
  const std::vector<std::string> grammars = {
      "root ::= (\"ab\" | \"a\" [b-d]* | \"x\"{1,3})+",
      "root ::= [a-c]{0,5} \"-\" [^a-c]? \"!\"",
      "root ::= s\ns ::= \"(\" s* \")\" | \"z\"",
      // Long bounded repetitions: masks shared between counts far from the bound.
      "root ::= [a-d]{0,30} \"-\" ([abx]{2,25} \"!\")?",
      "root ::= (\"(\" [a-c\u00e9]{0,12} \")\"){0,9}",
  };
  std::vector<std::string> vocab = {""};
  const std::string alphabet = "abcdxz()-!\xC3\xA9";
  for (int i = 0; i < 60; ++i) {
    std::string t;
    const int len = 1 + static_cast<int>(rng() % 4);
    for (int j = 0; j < len; ++j) t += alphabet[rng() % alphabet.size()];
    vocab.push_back(t);
  }
  for (const std::string& g : grammars) {
    auto p = Gbnf(g);
    auto trie = TokenTrie::FromStrings(vocab, 0);
    // Random walks through allowed tokens.
    for (int walk = 0; walk < 10; ++walk) {
      GrammarConstraint c(p, trie);
      std::string prefix;
      for (int step = 0; step < 24; ++step) {
        TokenMask mask;
        c.ComputeMask(&mask);
        std::vector<int32_t> allowed;
        for (int32_t id = 1; id < static_cast<int32_t>(vocab.size()); ++id) {
          ASSERT_EQ(mask.Test(id), IsPrefix(p, prefix + vocab[id])) << g << " after '" << prefix << "' + " << vocab[id];
          if (mask.Test(id)) allowed.push_back(id);
        }
        ASSERT_EQ(mask.Test(0), Matches(p, prefix));
        if (allowed.empty()) break;
        const int32_t pick = allowed[rng() % allowed.size()];
        ASSERT_TRUE(c.Accept(pick).ok());
        prefix += vocab[pick];
      }
    }
  }
}

TEST(Matcher, AcceptRejectsWhatTheMaskExcludesAndKeepsState) {
  auto p = Gbnf("root ::= \"ab\"");
  auto trie = TokenTrie::FromStrings({"", "a", "b", "c"}, 0);
  GrammarConstraint c(p, trie);
  EXPECT_FALSE(c.Accept(2).ok());
  EXPECT_FALSE(c.Accept(0).ok());  // EOS before complete
  EXPECT_TRUE(c.Accept(1).ok());
  EXPECT_FALSE(c.IsComplete());
  EXPECT_TRUE(c.Accept(2).ok());
  EXPECT_TRUE(c.IsComplete());
  EXPECT_FALSE(c.CanContinue());
  EXPECT_TRUE(c.Accept(0).ok());
  c.Reset();
  EXPECT_FALSE(c.IsComplete());
}

TEST(Matcher, CompactKeepsTheParseState) {
  auto p = Gbnf("root ::= \"[\" (\"x\" | root)* \"]\"");
  Matcher m(p);
  int32_t s = m.StepBytes(m.initial(), "[[x[");
  ASSERT_NE(s, Matcher::kDead);
  s = m.Compact(s);
  ASSERT_NE(m.StepBytes(s, "x]]"), Matcher::kDead);
  EXPECT_FALSE(m.IsAccepting(m.StepBytes(s, "x]]")));
  EXPECT_TRUE(m.IsAccepting(m.StepBytes(s, "x]]]")));
  EXPECT_EQ(m.StepBytes(s, "x]]]]"), Matcher::kDead);
  EXPECT_TRUE(m.IsAccepting(m.StepBytes(m.initial(), "[]")));
}

}  // namespace
}  // namespace ember::grammar
