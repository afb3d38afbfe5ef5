// A chat template: parsed once, rendered any number of times (concurrently too: rendering
// only reads the tree). This is the entry point of lib/chat; the pieces behind it are the
// lexer, parser, interpreter and builtins.
#ifndef EMBER_CHAT_TEMPLATE_H_
#define EMBER_CHAT_TEMPLATE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/chat/ast.h"
#include "lib/chat/limits.h"
#include "lib/chat/value.h"

namespace ember::chat {

class ChatTemplate {
 public:
  // Parses `source` (UTF-8). Unknown filters and tests are errors here, as jinja2 reports
  // them when compiling. InvalidArgumentError "template syntax error (line N): ...";
  // InvalidUtf8Error for invalid UTF-8.
  static absl::StatusOr<std::unique_ptr<ChatTemplate>> Parse(std::string_view source);

  // Renders with `context` (a dict: messages, add_generation_prompt, bos_token, ...).
  // InvalidArgumentError "template error (line N): ..." for a render error, including
  // raise_exception() (its message verbatim) and exceeded limits.
  absl::StatusOr<std::string> Render(const Value& context, const RenderLimits& limits = {}) const;

 private:
  ChatTemplate() = default;
  Body body_;
};

// Parses a render context: a JSON object (UTF-8, nesting bounded), keys kept in document
// order. InvalidArgumentError otherwise.
absl::StatusOr<Value> ContextFromJson(std::string_view json);

}  // namespace ember::chat

#endif  // EMBER_CHAT_TEMPLATE_H_
