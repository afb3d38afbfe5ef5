// libFuzzer target: arbitrary bytes as the JSON context of `ember template` /
// ember_chat_apply_json, rendered through a fixed template that touches messages, tools,
// tool calls, filters and tojson. Any input must give text or a status, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "lib/chat/template.h"

namespace {

constexpr char kTemplate[] = R"({{- bos_token -}}
{%- if tools is defined and tools %}{{ tools|tojson(indent=2) }}
{%- for t in tools %}{{ t.function.name if t.function is defined else t }}{% endfor %}{% endif %}
{%- set ns = namespace(sys='') %}
{%- for m in messages if m is mapping %}
  {%- if m.role == 'system' %}{% set ns.sys = m.content|string|trim %}{% continue %}{% endif %}
  {{- '<|' ~ m.role ~ '|>' ~ (m.content if m.content is string else m.content|tojson) }}
  {%- for c in m.tool_calls|default([]) %}{{ c.function.arguments|tojson if c.function is defined }}{% endfor %}
  {%- if loop.last and m.role == 'user' %}{{ m.content|length }}{{ m.content[1:3] }}{% endif %}
{%- endfor %}
{{- ns.sys|upper }}{{ messages|map(attribute='role')|join(',') if messages is iterable and messages is not string }}
{%- if add_generation_prompt %}<|assistant|>{% endif %}{{ eos_token }})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ember::chat::ChatTemplate* tmpl = [] {
    auto t = ember::chat::ChatTemplate::Parse(kTemplate);
    if (!t.ok()) std::abort();
    return t->release();
  }();
  auto context = ember::chat::ContextFromJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!context.ok()) return 0;
  ember::chat::RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_loop_iterations = 20000;
  limits.max_time = absl::Seconds(2);
  auto out = tmpl->Render(*context, limits);
  (void)out;
  return 0;
}
