// The JSON bodies of OpenAI responses: whole completions and server-sent-event chunks.
#ifndef EMBER_SERVER_OPENAI_RESPONSE_H_
#define EMBER_SERVER_OPENAI_RESPONSE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/request.h"

namespace ember::server {

struct ResponseMeta {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string id;     // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
};

struct Usage {
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;  // prompt tokens served from the KV cache (prompt_tokens_details)
};

// A whole (non-streamed) response body.
std::string CompletionBody(const ResponseMeta& meta, std::string_view text, std::string_view finish_reason,
                           const Usage& usage);

// One streamed chunk as an SSE event ("data: {...}\n\n"). For chat, `first` adds the
// assistant role to the delta; a non-empty finish_reason ends the choice.
std::string ChunkEvent(const ResponseMeta& meta, std::string_view text, bool first,
                       std::string_view finish_reason);

// The final usage chunk of stream_options.include_usage (empty choices).
std::string UsageEvent(const ResponseMeta& meta, const Usage& usage);

// An error inside a stream, and the end marker.
std::string ErrorEvent(const ApiError& error);
inline constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";

// GET /v1/models.
std::string ModelsBody(const std::string& model_id, int64_t created);

}  // namespace ember::server

#endif  // EMBER_SERVER_OPENAI_RESPONSE_H_
