// Python's operators on template values: arithmetic (int stays int, `/` gives float,
// floor division and modulo round toward negative infinity), `+` and `*` on strings and
// lists, jinja2's `~`, ordering comparisons, `in`, and printf-style `str % args`.
#ifndef EMBER_CHAT_OPERATORS_H_
#define EMBER_CHAT_OPERATORS_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "lib/chat/value.h"

namespace ember::chat {

class Interpreter;

// op: + - * / // % ** ~
absl::StatusOr<Value> BinaryOp(Interpreter& interp, std::string_view op, const Value& a, const Value& b);
// op: == != < <= > >= in notin
absl::StatusOr<bool> CompareOp(std::string_view op, const Value& a, const Value& b);
// a < b with Python's rules; TypeError-like error for unorderable types.
absl::StatusOr<bool> PyLess(const Value& a, const Value& b);
// `needle in container`.
absl::StatusOr<bool> PyContains(const Value& container, const Value& needle);
// Unary minus / plus.
absl::StatusOr<Value> Negate(const Value& v, bool minus);
// "fmt" % args (args: a tuple for several values).
absl::StatusOr<std::string> PyPercentFormat(const std::string& format, const Value& args);
// markupsafe.escape.
std::string HtmlEscape(std::string_view s);

}  // namespace ember::chat

#endif  // EMBER_CHAT_OPERATORS_H_
