// libFuzzer target: arbitrary bytes as a chat template, rendered with a fixed context
// (messages with tools and tool calls). Parsing and rendering must return a status, never
// crash, hang or exhaust memory; the caps are lowered so that each input stays quick.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/chat/template.h"

namespace {

constexpr char kContext[] = R"({
  "messages": [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hi ünï {{ not a tag }}"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_1", "type": "function", "function": {"name": "get", "arguments": {"city": "Paris", "n": 2.5}}}]},
    {"role": "tool", "content": "22C"},
    {"role": "assistant", "content": "  Done.  "}],
  "tools": [{"type": "function", "function": {"name": "get", "description": "d",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
  "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "n": 3, "flag": false
})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ember::chat::Value* context = [] {
    auto ctx = ember::chat::ContextFromJson(kContext);
    if (!ctx.ok()) std::abort();
    return new ember::chat::Value(*ctx);
  }();
  std::string_view source(reinterpret_cast<const char*>(data), size);
  auto parsed = ember::chat::ChatTemplate::Parse(source);
  if (!parsed.ok()) return 0;
  ember::chat::RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_list_items = 1 << 16;
  limits.max_loop_iterations = 20000;
  limits.max_time = absl::Seconds(2);
  auto out = (*parsed)->Render(*context, limits);
  if (out.ok() && out->size() > limits.max_output_bytes) std::abort();
  return 0;
}
