// The \u spellings of characters inside a JSON string (RFC 8259, section 7): "\u" and four
// hex digits of either case for a character of the Basic Multilingual Plane, a UTF-16
// surrogate pair of two such escapes for any other. JSON Schema compares decoded strings, so
// a grammar for schema-valid JSON texts must accept these spellings wherever it accepts the
// character itself (`\u00e9` for "é", `\ud83d\ude00` for one emoji, which counts as one
// character against minLength/maxLength).
#ifndef EMBER_GRAMMAR_JSON_ESCAPES_H_
#define EMBER_GRAMMAR_JSON_ESCAPES_H_

#include <vector>

#include "lib/grammar/grammar_ir.h"

namespace ember::grammar {

// An expression matching exactly the \u spellings of the code points in `ranges` (surrogate
// code points in `ranges` are ignored: a lone surrogate escape is never matched). Never()
// when `ranges` is empty.
int32_t UnicodeEscapeExpr(GrammarIr* ir, const std::vector<CodeRange>& ranges);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_JSON_ESCAPES_H_
