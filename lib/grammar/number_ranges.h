// Decimal spellings of bounded numbers as grammar expressions, for JSON Schema's minimum /
// maximum: integers in [lo, hi] (no leading zeros), and numbers (with a fraction, no
// exponent) between integral bounds that may be exclusive.
#ifndef EMBER_GRAMMAR_NUMBER_RANGES_H_
#define EMBER_GRAMMAR_NUMBER_RANGES_H_

#include <cstdint>
#include <optional>

#include "lib/grammar/grammar_ir.h"

namespace ember::grammar {

// JSON integers n with lo <= n <= hi (nullopt: unbounded on that side). Never() if empty.
int32_t IntegerRangeExpr(GrammarIr* ir, std::optional<int64_t> lo, std::optional<int64_t> hi);

// JSON numbers x (optional fraction, no exponent) with lo <= x (or lo < x when lo_exclusive)
// and x <= hi (x < hi when hi_exclusive); the bounds are integers.
int32_t NumberRangeExpr(GrammarIr* ir, std::optional<int64_t> lo, bool lo_exclusive, std::optional<int64_t> hi,
                        bool hi_exclusive);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_NUMBER_RANGES_H_
