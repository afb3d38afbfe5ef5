// The request -> generation-parameters mapping of the OpenAI endpoints, as pure functions
// (no model, no I/O) so they can be unit-tested and fuzzed (fuzz/serve_request_fuzz.cc).
#ifndef EMBER_SERVER_REQUEST_H_
#define EMBER_SERVER_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/api_error.h"

namespace ember::server {

enum class Endpoint { kChatCompletions, kCompletions };

enum class ResponseFormat { kText, kJsonObject, kJsonSchema };

struct ChatMessage {
  std::string role;  // "system" (also for "developer"), "user", "assistant", "tool"
  std::string content;
};

// Everything a request asks for, validated and normalised, with OpenAI's defaults applied.
struct GenerationRequest {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string model;  // as sent ("" if absent)
  // Chat: the conversation. Completions: the prompt, as text or as token ids.
  std::vector<ChatMessage> messages;
  std::string prompt;
  std::vector<int32_t> prompt_tokens;
  bool prompt_is_tokens = false;
  bool echo = false;  // completions: the prompt text starts the returned text

  std::optional<int32_t> max_tokens;  // absent: until end of sequence or context
  float temperature = 1.0f;           // OpenAI's default; 0 = greedy
  float top_p = 1.0f;
  std::optional<uint64_t> seed;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> bias, sorted by id
  std::vector<std::string> stop;                      // non-empty strings, at most 4

  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage

  ResponseFormat response_format = ResponseFormat::kText;
  std::string json_schema;  // response_format.json_schema.schema, serialised
};

// Limits of the mapping (OpenAI's where it has one).
inline constexpr size_t kMaxStopStrings = 4;
inline constexpr size_t kMaxLogitBiasEntries = 1024;
inline constexpr int32_t kMaxTokensLimit = 1 << 24;

// Parses and validates a request body. Returns false with a 400 error (naming the
// parameter) for malformed JSON, wrong types, out-of-range values and unsupported
// features (n > 1, logprobs, tools, several prompts, image parts...). Never throws.
bool ParseGenerationRequest(Endpoint endpoint, std::string_view body, GenerationRequest* out,
                            ApiError* error);

// What the inference backend can do today; requests that use more get a 400.
struct BackendCapabilities {
  bool penalties = false;   // presence_penalty / frequency_penalty
  bool logit_bias = false;
  int32_t n_vocab = 0;      // logit_bias / token prompts must be below it (0 = unchecked)
};

// Checks a parsed request against what the backend supports. Pure.
bool CheckSupported(const GenerationRequest& request, const BackendCapabilities& caps,
                    ApiError* error);

}  // namespace ember::server

#endif  // EMBER_SERVER_REQUEST_H_
