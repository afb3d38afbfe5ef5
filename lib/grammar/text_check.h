// Walks a token sequence through a GrammarConstraint the way constrained generation would
// (mask first, then the token must be in it) and reports the verdict: the engine behind
// `ember grammar-check` and the structured-output test suites.
#ifndef EMBER_GRAMMAR_TEXT_CHECK_H_
#define EMBER_GRAMMAR_TEXT_CHECK_H_

#include <cstdint>
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
TextCheckResult CheckTokens(GrammarConstraint* constraint, absl::Span<const int32_t> ids);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_TEXT_CHECK_H_
