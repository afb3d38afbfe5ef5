// Builds the statement tree of a template from its tokens, following jinja2's grammar
// (operator precedence, filters and tests, the `for`/`if`/`set`/`macro`/`call`/`filter`/
// `with` statements, loopcontrols' `break`/`continue`, and transformers' `generation`).
#ifndef EMBER_CHAT_PARSER_H_
#define EMBER_CHAT_PARSER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "lib/chat/ast.h"

namespace ember::chat {

// Nesting (statements, parentheses, operators) deeper than this is a syntax error, so that
// neither parsing nor rendering can exhaust the stack.
inline constexpr int kMaxParseDepth = 256;

// InvalidArgumentError "template syntax error (line N): ..." for anything jinja2 rejects
// while parsing (and for nesting beyond kMaxParseDepth).
absl::StatusOr<Body> ParseTemplate(std::string_view source);

}  // namespace ember::chat

#endif  // EMBER_CHAT_PARSER_H_
