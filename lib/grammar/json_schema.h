// JSON Schema (draft 4 to 2020-12, the assertion keywords listed below) to a grammar whose
// language is the JSON texts that validate, so that constrained generation can only produce
// valid instances.
//
// Supported: type (and lists of types), properties (emitted in definition order; optional
// ones may be left out), required, additionalProperties (absent: any further properties,
// after the declared ones; false; a schema), enum, const, items (schema, or an array as in
// draft 4 with additionalItems), prefixItems, minItems, maxItems, uniqueItems: false,
// minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum (integers; on
// numbers integral bounds), pattern (lib/grammar/regex.h), format date, date-time, time,
// uuid, email, ipv4, anyOf, oneOf (when its branches cannot overlap: different types, a
// const/enum discriminator property, or additionalProperties: false with distinct required
// keys), allOf (merged keyword by keyword), $ref to any JSON pointer in the document
// (#/$defs/x, #/definitions/x, #, recursion included).
//
// Annotations (title, description, default, examples, $schema, $id, $comment, ...) and
// keywords that are not part of JSON Schema (x-*, vendor fields) are ignored, as the
// specification prescribes. A JSON Schema assertion this converter cannot enforce (not,
// if/then/else, patternProperties, dependencies, minProperties, uniqueItems: true,
// multipleOf, contains, formats other than the ones above, ...) is an InvalidArgumentError
// that names the keyword and its JSON pointer: never a silently wider grammar.
//
// Spellings: a character may be written wherever it is allowed either as itself, by its
// short escape or as \u escapes (either hex case; a surrogate pair for one character beyond
// U+FFFF, which counts once for minLength/maxLength), in values, property names, patterns
// and enum/const strings alike; lone surrogate escapes are never accepted. An enum/const
// number matches any spelling of its value (1, 1.0; 1e+20 and its 21 digits).
//
// Narrower than the specification, on purpose: "type": "integer" takes integers written as
// such (not 5.0 or 1e2, which JSON Schema also counts as integers: a generated integer stays
// an integer for typed consumers, and Python reads a long "123...0.0" as inf); bounded
// numbers are written without an exponent; enum/const objects (like properties) list their
// members in the schema's order.
//
// Whitespace: none is required; between tokens the grammar allows at most one space, or a
// newline followed by up to 32 spaces or tabs, so a model cannot pad forever.
#ifndef EMBER_GRAMMAR_JSON_SCHEMA_H_
#define EMBER_GRAMMAR_JSON_SCHEMA_H_

#include <string_view>

#include "absl/status/status.h"
#include "lib/grammar/grammar_ir.h"

namespace ember::grammar {

// Adds the schema's grammar to `ir` and sets its root.
absl::Status JsonSchemaToGrammar(std::string_view schema_json, GrammarIr* ir);

// JSON mode: any JSON object.
void JsonObjectGrammar(GrammarIr* ir);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_JSON_SCHEMA_H_
