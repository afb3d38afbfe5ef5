// libFuzzer target: arbitrary bytes as the body of POST /v1/chat/completions and
// /v1/completions. The mapping must return a request or a 400 error, never crash or let an
// exception escape, and what it accepts must satisfy its documented ranges.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/request.h"

namespace {

void Check(ember::server::Endpoint endpoint, std::string_view body) {
  using namespace ember::server;
  GenerationRequest r;
  ApiError error;
  if (!ParseGenerationRequest(endpoint, body, &r, &error)) {
    if (error.http_status != 400 || error.message.empty()) std::abort();
    if (ErrorBody(error).empty()) std::abort();
    return;
  }
  if (endpoint == Endpoint::kChatCompletions && r.messages.empty()) std::abort();
  if (r.max_tokens && (*r.max_tokens < 1 || *r.max_tokens > kMaxTokensLimit)) std::abort();
  if (!(r.temperature >= 0.0f && r.temperature <= 2.0f) || !(r.top_p >= 0.0f && r.top_p <= 1.0f)) std::abort();
  if (std::fabs(r.presence_penalty) > 2.0f || std::fabs(r.frequency_penalty) > 2.0f) std::abort();
  if (r.stop.size() > kMaxStopStrings || r.logit_bias.size() > kMaxLogitBiasEntries) std::abort();
  for (const std::string& s : r.stop) {
    if (s.empty()) std::abort();
  }
  for (const auto& [id, bias] : r.logit_bias) {
    if (id < 0 || !(std::fabs(bias) <= 100.0f)) std::abort();
  }
  for (int32_t id : r.prompt_tokens) {
    if (id < 0) std::abort();
  }
  if (r.include_usage && !r.stream) std::abort();
  BackendCapabilities caps{.penalties = true, .logit_bias = true, .n_vocab = 32000};
  CheckSupported(r, caps, &error);
  CheckSupported(r, BackendCapabilities{}, &error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  Check(ember::server::Endpoint::kChatCompletions, body);
  Check(ember::server::Endpoint::kCompletions, body);
  return 0;
}
