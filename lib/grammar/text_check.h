// Walks a token sequence through a GrammarConstraint the way constrained generation would
// (mask first, then the token must be in it) and reports the verdict: the engine behind
// `ember grammar-check` and the structured-output test suites.
#ifndef EMBER_GRAMMAR_TEXT_CHECK_H_
#define EMBER_GRAMMAR_TEXT_CHECK_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "lib/grammar/grammar_constraint.h"

namespace ember::grammar {

struct TextCheckResult {
  bool accepted = true;    // every token was in its mask
  bool complete = false;   // and the grammar accepts the whole text as finished
  int32_t tokens = 0;
  int32_t rejected_at = -1;  // index of the first token outside its mask, or -1
  std::vector<double> mask_us;  // time of each mask computation
  double MedianMaskUs() const;
  double MaxMaskUs() const;
};

// `constraint` starts from its current state (normally fresh).
// `first_token_space_is_prefix`: the tokenizer put a space in front of the text (SentencePiece's
// dummy prefix, " {" for "{"); the first token is then checked without that space, because
// it is not part of the text being checked.
TextCheckResult CheckTokens(GrammarConstraint* constraint, absl::Span<const int32_t> ids,
                            bool first_token_space_is_prefix = false);

// Whether `ids` render (TokenBytes, concatenated) as " " + text, i.e. the tokenizer added a
// dummy-prefix space that `text` does not have.
bool TokenizerAddedPrefixSpace(const TokenTrie& trie, absl::Span<const int32_t> ids, std::string_view text);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_TEXT_CHECK_H_
