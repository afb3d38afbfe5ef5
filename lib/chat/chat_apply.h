// Turning a conversation into prompt text: the render context a chat template expects
// (messages, add_generation_prompt, bos_token, eos_token) and the choice of template
// (the host's, else the model's own, else the default for the architecture).
#ifndef EMBER_CHAT_CHAT_APPLY_H_
#define EMBER_CHAT_CHAT_APPLY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/chat/limits.h"
#include "lib/chat/value.h"

namespace ember::chat {

struct ChatMessage {
  std::string role;
  std::string content;
};

// What a model contributes to a render.
struct ModelChatInfo {
  std::string template_source;  // the model's own template, "" if it has none
  std::string architecture;     // picks the default template when there is none
  std::string bos_token;        // text of the special tokens ("" if the model has none)
  std::string eos_token;
};

// The template to use: `host_template` if given, else the model's, else the default.
std::string_view ChooseTemplate(const std::string_view* host_template, const ModelChatInfo* model);

// {messages: [{role, content}...], add_generation_prompt, bos_token, eos_token}.
Value MessagesContext(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                      const ModelChatInfo* model);

// `context` plus bos_token / eos_token from the model where the context lacks them.
Value WithSpecialTokens(const Value& context, const ModelChatInfo* model);

// Parses and renders (see ChatTemplate).
absl::StatusOr<std::string> RenderChatTemplate(std::string_view source, const Value& context,
                                               const RenderLimits& limits = {});

}  // namespace ember::chat

#endif  // EMBER_CHAT_CHAT_APPLY_H_
