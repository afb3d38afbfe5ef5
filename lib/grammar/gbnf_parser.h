// GBNF, the grammar notation llama.cpp users write:
//
//   root   ::= object            # comments run to the end of the line
//   object ::= "{" ws (pair ("," ws pair)*)? "}"
//   pair   ::= [a-z]+ ":" ws value
//
// Rules `name ::= ...` (names of letters, digits, '-' and '_'); alternation `|`; grouping
// `( )`; repetition `*` `+` `?` `{m}` `{m,}` `{m,n}`; string literals "..." and character
// classes [a-z0-9_] / [^"\\] with escapes \n \r \t \\ \" \' \[ \] \- \/ \xNN \uNNNN
// \UNNNNNNNN (code points, UTF-8 encoded); `.` is any character. A rule may span lines: it
// ends where the next `name ::=` starts. The start rule is `root`.
#ifndef EMBER_GRAMMAR_GBNF_PARSER_H_
#define EMBER_GRAMMAR_GBNF_PARSER_H_

#include <string_view>

#include "absl/status/status.h"
#include "lib/grammar/grammar_ir.h"

namespace ember::grammar {

// Adds the rules of `text` to `ir` and sets its root. InvalidArgumentError "line L, column
// C: ..." on a syntax error, a rule defined twice, an undefined rule or a missing root.
absl::Status ParseGbnf(std::string_view text, GrammarIr* ir);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_GBNF_PARSER_H_
