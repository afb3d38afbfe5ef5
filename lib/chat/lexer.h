// Splits template source into tokens the way jinja2's lexer does in Hugging Face's
// environment (trim_blocks, lstrip_blocks, keep_trailing_newline=False): text, `{{ }}`,
// `{% %}` and `{# #}` with their `-`/`+` whitespace control, `{% raw %}` sections, and
// the expression tokens inside tags (names, strings, numbers, operators).
#ifndef EMBER_CHAT_LEXER_H_
#define EMBER_CHAT_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ember::chat {

enum class TokenKind {
  kData,        // literal template text (whitespace control already applied)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text = the decoded string value
  kInt,
  kFloat,
  kOp,          // text = the operator, e.g. "==", "(", "|"
  kEof,
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

// InvalidArgumentError with the line for unterminated tags, comments, strings and
// characters no token starts with. `source` must be valid UTF-8.
absl::StatusOr<std::vector<Token>> Tokenize(std::string_view source);

}  // namespace ember::chat

#endif  // EMBER_CHAT_LEXER_H_
