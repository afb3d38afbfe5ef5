// The regular-expression subset JSON Schema `pattern`s use (ECMA-262 syntax, as validators
// also run them with Python's re): alternation, groups ( ) (?: ) (?<name> ), quantifiers
// * + ? {n} {n,} {n,m} (lazy forms match the same strings), classes with ranges and
// negation, . \d \w \s \D \W \S, escapes \n \t \xHH \uHHHH; ^ and $ at the ends of the
// top-level alternatives. Search semantics: an alternative without ^ may start anywhere and
// one without $ may end anywhere, as in JSON Schema. Lookaround, backreferences, word
// boundaries and flags are unsupported and rejected.
//
// Where Python's and ECMA's classes differ (\d, \w, \s match non-ASCII in Python), the
// grammar takes the narrower reading, so every string it accepts matches in both.
#ifndef EMBER_GRAMMAR_REGEX_H_
#define EMBER_GRAMMAR_REGEX_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "lib/grammar/grammar_ir.h"

namespace ember::grammar {

// Builds the expression matching one character in `ranges` (e.g. as it is spelled inside a
// JSON string, escapes included).
using CharEmitter = std::function<int32_t(const std::vector<CodeRange>& ranges)>;

// Sets *out to an expression for the strings `pattern` matches (a search, see above).
// InvalidArgumentError naming the unsupported construct and its offset.
absl::Status RegexToGrammar(std::string_view pattern, const CharEmitter& emit, GrammarIr* ir, int32_t* out);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_REGEX_H_
