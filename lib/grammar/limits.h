// Bounds that keep hostile grammars and schemas from exhausting time or memory. Exceeding
// one is an InvalidArgumentError that names the limit, never a crash or a silent cut.
#ifndef EMBER_GRAMMAR_LIMITS_H_
#define EMBER_GRAMMAR_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace ember::grammar {

inline constexpr size_t kMaxGrammarTextBytes = size_t{4} << 20;  // GBNF or schema text
inline constexpr int kMaxNestingDepth = 200;        // parentheses, schema nesting, regex groups
inline constexpr int32_t kMaxRules = 100000;        // rules after lowering
inline constexpr size_t kMaxElements = 2000000;     // byte-level elements after lowering
inline constexpr uint32_t kMaxRepeatBound = 100000; // {m,n}, minLength, maxItems, ...
// Runtime: the matcher's interned stacks and states, and how many stacks one state may hold
// (an ambiguous grammar multiplies them); past these the token is rejected, not the process.
inline constexpr size_t kMaxStacksPerState = 50000;
inline constexpr size_t kMaxMatcherStates = 20000;
inline constexpr size_t kMaskCacheBytes = size_t{32} << 20;

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_LIMITS_H_
