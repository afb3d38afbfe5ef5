// The template used for a model that ships none. Phi-2 was trained on its documented QA
// format, "Instruct: <prompt>\nOutput:", so it gets that: the system text first (as a plain
// line), then one "Instruct: ...\n" / "Output: ...\n" exchange per turn, and a bare
// "Output:" as the generation prompt. Every other model gets ChatML
// ("<|im_start|>role\ncontent<|im_end|>\n"), the most widely understood chat format.
#ifndef EMBER_CHAT_DEFAULT_TEMPLATES_H_
#define EMBER_CHAT_DEFAULT_TEMPLATES_H_

#include <string_view>

namespace ember::chat {

inline constexpr std::string_view kChatMlTemplate =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{{- message['content'] if message['content'] is string else '' -}}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

inline constexpr std::string_view kPhi2Template =
    "{%- for message in messages -%}\n"
    "{%- set content = message['content'] if message['content'] is string else '' -%}\n"
    "{%- if message['role'] == 'system' -%}{{- content + '\\n' -}}\n"
    "{%- elif message['role'] == 'user' -%}{{- 'Instruct: ' + content + '\\n' -}}\n"
    "{%- elif message['role'] == 'assistant' -%}{{- 'Output: ' + content + '\\n' -}}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- 'Output:' -}}{%- endif -%}\n";

// The default for an architecture name ("phi2", "llama", "mistral", ...).
inline std::string_view DefaultChatTemplate(std::string_view architecture) {
  return architecture == "phi2" ? kPhi2Template : kChatMlTemplate;
}

}  // namespace ember::chat

#endif  // EMBER_CHAT_DEFAULT_TEMPLATES_H_
