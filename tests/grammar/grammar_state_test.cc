// GrammarConstraint's parse state as data (accepted_bytes, ended, Restore), what session
// state files carry: the recorded text is exactly what was followed; a constraint restored
// from it gives the same masks, completeness and continuations as the original along random
// walks; a text the grammar refuses (or EOS after an incomplete one) leaves the state
// unchanged; a replay long enough to make the matcher compact itself works, also when it
// fails part way.
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/grammar/limits.h"

namespace ember::grammar {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const Program> Gbnf(const std::string& text) {
  absl::StatusOr<std::shared_ptr<const Program>> p = CompileConstraint(GrammarKind::kGbnf, text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}

std::vector<uint64_t> Mask(GrammarConstraint& c) {
  TokenMask mask;
  c.ComputeMask(&mask);
  return mask.words;
}

// Same observable parse state: text, end flag, completeness, continuation and mask.
void ExpectSameState(GrammarConstraint& a, GrammarConstraint& b, const std::string& where) {
  EXPECT_EQ(a.accepted_bytes(), b.accepted_bytes()) << where;
  EXPECT_EQ(a.ended(), b.ended()) << where;
  EXPECT_EQ(a.IsComplete(), b.IsComplete()) << where;
  EXPECT_EQ(a.CanContinue(), b.CanContinue()) << where;
  EXPECT_EQ(Mask(a), Mask(b)) << where;
}

TEST(GrammarState, RecordsWhatWasFollowed) {
  auto p = Gbnf("root ::= \"a\" \"b\"+");
  auto trie = TokenTrie::FromStrings({"", "a", "b", "c", "ab"}, /*eos=*/0);
  GrammarConstraint c(p, trie);
  EXPECT_EQ(c.accepted_bytes(), "");
  EXPECT_FALSE(c.ended());
  ASSERT_TRUE(c.Accept(1).ok());
  ASSERT_TRUE(c.AcceptBytes("b"));
  EXPECT_EQ(c.accepted_bytes(), "ab");
  EXPECT_FALSE(c.Accept(4).ok());   // refused: not recorded
  EXPECT_FALSE(c.AcceptBytes("c"));
  EXPECT_EQ(c.accepted_bytes(), "ab");
  ASSERT_TRUE(c.Accept(2).ok());
  ASSERT_TRUE(c.Accept(0).ok());  // EOS: ends, adds no bytes
  EXPECT_TRUE(c.ended());
  EXPECT_EQ(c.accepted_bytes(), "abb");
  c.Reset();
  EXPECT_EQ(c.accepted_bytes(), "");
  EXPECT_FALSE(c.ended());
}

TEST(GrammarState, RestoredConstraintContinuesLikeTheOriginal) {
  std::mt19937 rng(11);
  const std::vector<std::string> grammars = {
      "root ::= (\"ab\" | \"a\" [b-d]* | \"x\"{1,3})+",
      "root ::= [a-d]{0,30} \"-\" ([abx]{2,25} \"!\")?",
      "root ::= s\ns ::= \"(\" s* \")\" | \"z\"",
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
  auto trie = TokenTrie::FromStrings(vocab, 0);
  for (const std::string& g : grammars) {
    auto p = Gbnf(g);
    for (int walk = 0; walk < 8; ++walk) {
      GrammarConstraint original(p, trie);
      for (int step = 0; step < 24; ++step) {
        const std::string where = g + " walk " + std::to_string(walk) + " step " + std::to_string(step);
        // A constraint with a history of its own (warm caches, another text) restored to
        // this point.
        GrammarConstraint restored(p, trie);
        (void)restored.AcceptBytes(std::string(original.accepted_bytes()).substr(0, step % 3));
        ASSERT_TRUE(restored.Restore(original.accepted_bytes(), original.ended()).ok()) << where;
        ExpectSameState(original, restored, where);
        const std::vector<uint64_t> mask = Mask(original);
        std::vector<int32_t> allowed;
        for (int32_t id = 0; id < static_cast<int32_t>(vocab.size()); ++id) {
          if ((mask[id >> 6] >> (id & 63)) & 1) allowed.push_back(id);
        }
        if (allowed.empty()) break;
        const int32_t pick = allowed[rng() % allowed.size()];
        ASSERT_TRUE(original.Accept(pick).ok()) << where;
        ASSERT_TRUE(restored.Accept(pick).ok()) << where;
        ExpectSameState(original, restored, where + " then token " + std::to_string(pick));
        if (original.ended()) break;
      }
    }
  }
}

TEST(GrammarState, RefusedTextLeavesTheStateUnchanged) {
  auto p = Gbnf("root ::= \"ab\" \"c\"?");
  auto trie = TokenTrie::FromStrings({"", "a", "b", "c"}, 0);
  GrammarConstraint c(p, trie);
  ASSERT_TRUE(c.Accept(1).ok());
  GrammarConstraint before = c;

  absl::Status st = c.Restore("ax", false);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("byte 1"));
  ExpectSameState(c, before, "after 'ax'");
  st = c.Restore("a", true);  // EOS after an incomplete text
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("not complete"));
  ExpectSameState(c, before, "after EOS too early");
  st = c.Restore("abcc", false);
  EXPECT_THAT(st.message(), HasSubstr("byte 3"));
  ExpectSameState(c, before, "after 'abcc'");

  // Complete texts restore, with or without EOS; an ended one stays ended.
  ASSERT_TRUE(c.Restore("ab", true).ok());
  EXPECT_TRUE(c.ended());
  EXPECT_FALSE(c.Accept(3).ok());
  ASSERT_TRUE(c.Restore("abc", false).ok());
  EXPECT_FALSE(c.ended());
  EXPECT_TRUE(c.IsComplete());
  // Its own text (a view of what the replay rewrites).
  ASSERT_TRUE(c.Restore(c.accepted_bytes(), c.ended()).ok());
  EXPECT_EQ(c.accepted_bytes(), "abc");
  ASSERT_TRUE(c.Restore("", false).ok());
  EXPECT_EQ(c.accepted_bytes(), "");

  // A vocabulary without EOS never accepted one.
  GrammarConstraint no_eos(p, TokenTrie::FromStrings({"", "a", "b", "c"}, -1));
  EXPECT_EQ(no_eos.Restore("ab", true).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(no_eos.Restore("ab", false).ok());
}

// Every byte of a counted repetition is a new matcher state: past kMaxMatcherStates the
// replay compacts the matcher, as generation does between tokens.
TEST(GrammarState, LongReplayCompactsAndFailsCleanly) {
  const size_t n = kMaxMatcherStates + 5000;
  auto p = Gbnf("root ::= \"a\"{0," + std::to_string(n) + "} \"!\"");
  auto trie = TokenTrie::FromStrings({"", "a", "!", "aa"}, 0);
  GrammarConstraint reference(p, trie);
  ASSERT_TRUE(reference.AcceptBytes("aaa"));

  GrammarConstraint c(p, trie);
  ASSERT_TRUE(c.AcceptBytes("aaa"));
  // One byte too many, refused at its end: the replay compacted on the way, so getting
  // back to "aaa" needs its text, not the old state id.
  const absl::Status st = c.Restore(std::string(n + 1, 'a'), false);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("byte " + std::to_string(n)));
  ExpectSameState(c, reference, "after the refused long text");
  EXPECT_FALSE(c.AcceptBytes(std::string(n - 2, 'a')));  // "aaa" + n-2 = n+1 a's
  ASSERT_TRUE(c.AcceptBytes(std::string(n - 3, 'a')));

  ASSERT_TRUE(c.Restore(std::string(n, 'a'), false).ok());
  EXPECT_FALSE(c.IsComplete());
  EXPECT_EQ(c.accepted_bytes().size(), n);
  TokenMask mask;
  c.ComputeMask(&mask);
  EXPECT_FALSE(mask.Test(1));  // no room for another "a"
  EXPECT_TRUE(mask.Test(2));
  ASSERT_TRUE(c.Accept(2).ok());
  EXPECT_TRUE(c.IsComplete());
  EXPECT_FALSE(c.CanContinue());
}

}  // namespace
}  // namespace ember::grammar
