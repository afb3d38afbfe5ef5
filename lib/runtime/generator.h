// Text generation on a session: tokenize the prompt (BOS only at the start of a sequence),
// evaluate it, then sample, evaluate and stream token by token until a stop condition.
// The C API's ember_session_generate is a thin wrapper over this.
#ifndef EMBER_RUNTIME_GENERATOR_H_
#define EMBER_RUNTIME_GENERATOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "lib/runtime/session.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/utf8.h"

namespace ember {

struct GenerateOptions {
  int32_t max_tokens = 0;   // tokens to generate at most (>= 0)
  bool ignore_eos = false;  // keep going after the end-of-sequence token
};

// Why a generation ended. The values are the C API's EMBER_STOP_* codes.
enum class StopReason : int32_t {
  kNone = 0,         // did not stop normally (an error before or during generation)
  kEndOfGeneration,  // sampled the end-of-sequence token (not evaluated, not reported)
  kMaxTokens,
  kCallback,         // the sink asked to stop
  kCancelled,
  kContextFull,
};

struct GenerateResult {
  int32_t n_generated = 0;  // tokens evaluated and reported to the sink
  StopReason stop_reason = StopReason::kNone;
};

// Receives each generated token with the text it completes (valid UTF-8, never half a
// character; may be empty). Returns true to stop generating.
using TokenSink = absl::FunctionRef<bool(int32_t token, std::string_view text)>;

class Generator {
 public:
  Generator(Session& session, const GenerateOptions& options)
      : session_(session), options_(options) {}

  // One generation: `encode` says how to tokenize `prompt`, except that BOS is only ever
  // added to an empty session. InvalidArgumentError for an empty prompt on a session that
  // has evaluated nothing, or max_tokens < 0. Evaluation errors (ContextFullError,
  // CancelledError via session.cancellation(), ...) end the call; tokens evaluated before
  // stay in the session. `result` is filled on success and on error.
  absl::Status Run(std::string_view prompt, EncodeOptions encode, TokenSink sink,
                   GenerateResult* result);

 private:
  absl::Status Loop(absl::Span<const int32_t> prompt, TokenSink sink, GenerateResult* result);

  Session& session_;
  const GenerateOptions options_;
  Utf8Stream utf8_;
  std::string piece_, text_;
};

}  // namespace ember

#endif  // EMBER_RUNTIME_GENERATOR_H_
