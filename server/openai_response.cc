#include "server/openai_response.h"

#include <nlohmann/json.hpp>

namespace ember::server {
namespace {

using json = nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json UsageJson(const Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}}}};
}

json Envelope(const ResponseMeta& meta, bool chunk) {
  const bool chat = meta.endpoint == Endpoint::kChatCompletions;
  return {{"id", meta.id},
          {"object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"},
          {"created", meta.created},
          {"model", meta.model},
          {"system_fingerprint", nullptr}};
}

json FinishReason(std::string_view reason) { return reason.empty() ? json(nullptr) : json(reason); }

}  // namespace

std::string CompletionBody(const ResponseMeta& meta, std::string_view text, std::string_view finish_reason,
                           const Usage& usage) {
  json body = Envelope(meta, false);
  json choice = {{"index", 0}, {"finish_reason", FinishReason(finish_reason)}, {"logprobs", nullptr}};
  if (meta.endpoint == Endpoint::kChatCompletions) {
    choice["message"] = {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
  } else {
    choice["text"] = text;
  }
  body["choices"] = json::array({choice});
  body["usage"] = UsageJson(usage);
  return Dump(body);
}

std::string ChunkEvent(const ResponseMeta& meta, std::string_view text, bool first,
                       std::string_view finish_reason) {
  json body = Envelope(meta, true);
  json choice = {{"index", 0}, {"finish_reason", FinishReason(finish_reason)}, {"logprobs", nullptr}};
  if (meta.endpoint == Endpoint::kChatCompletions) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || first) delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  body["choices"] = json::array({choice});
  return "data: " + Dump(body) + "\n\n";
}

std::string UsageEvent(const ResponseMeta& meta, const Usage& usage) {
  json body = Envelope(meta, true);
  body["choices"] = json::array();
  body["usage"] = UsageJson(usage);
  return "data: " + Dump(body) + "\n\n";
}

std::string ErrorEvent(const ApiError& error) { return "data: " + ErrorBody(error) + "\n\n"; }

std::string ModelsBody(const std::string& model_id, int64_t created) {
  json model = {{"id", model_id}, {"object", "model"}, {"created", created}, {"owned_by", "ember"}};
  return Dump(json{{"object", "list"}, {"data", json::array({model})}});
}

}  // namespace ember::server
