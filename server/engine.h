// The inference backend of `ember serve`: the ONLY file pair in server/ that calls ember.h.
// One model shared by N slots; each slot is a session (KV cache + sampler) that runs one
// generation at a time. Everything above this (HTTP, queueing, OpenAI shapes) is independent
// of how generation is done, so the backend can move to new library functions in one place.
//
// Per request a slot's session gets the request's sampler (ember_session_set_sampler: the KV
// cache stays), re-evaluates only what its KV cache does not already hold
// (ember_session_eval_reuse: longest common prefix), and generates with the library's stop
// strings, end-of-generation set and stop reasons (ember_session_generate_ex).
//
// What waits for library functions that are being added:
//   TODO(grammar): response_format needs ember_sampler_options_set_grammar with
//     EMBER_GRAMMAR_JSON_OBJECT / EMBER_GRAMMAR_JSON_SCHEMA (issue 11); until then
//     capabilities().response_format is false and such requests get a 400.
//   TODO(batch): slots decode independently on their own threads; continuous batching needs
//     ember_session_eval_batch (one forward per step over all active slots).
#ifndef EMBER_SERVER_ENGINE_H_
#define EMBER_SERVER_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/ember.h"
#include "server/request.h"

namespace ember::server {

struct EngineConfig {
  std::string model_path;
  int32_t n_slots = 1;
  int32_t n_ctx = 0;      // per slot; 0 = the library's default
  int32_t n_threads = 0;  // per slot; 0 = the library's default
};

struct SamplingParams {
  float temperature = 1.0f;
  float top_p = 1.0f;
  uint64_t seed = 0;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;
  bool operator==(const SamplingParams&) const = default;
};

struct GenerateParams {
  std::vector<int32_t> prompt;  // the whole prompt, as tokens
  int32_t max_tokens = 0;       // > 0; the engine also stops at the end of the context
  SamplingParams sampling;
  std::vector<std::string> stop;
};

enum class FinishReason { kStop, kLength, kCancelled, kError };

struct GenerateResult {
  FinishReason finish = FinishReason::kStop;
  int32_t prompt_tokens = 0;
  int32_t reused_tokens = 0;      // prompt tokens the slot's KV cache already held (not evaluated)
  int32_t completion_tokens = 0;
  std::string error;              // for kError
};

// Receives generated text in order (valid UTF-8, never a stop string). Called on the slot's
// thread; the first call marks the first token.
using TextSink = std::function<void(std::string_view text)>;

class Engine {
 public:
  // Loads the model and creates the slots' sessions. nullptr with *error on failure.
  static std::unique_ptr<Engine> Load(const EngineConfig& config, std::string* error);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int32_t n_slots() const { return static_cast<int32_t>(slots_.size()); }
  int32_t n_ctx() const { return n_ctx_; }
  BackendCapabilities capabilities() const;

  // The prompt tokens of a chat (rendered through the model's chat template, ending with the
  // assistant's generation prompt) or of completion text. false with a 400-style message
  // (invalid UTF-8, a template error or the template's raise_exception()).
  bool TokenizeChat(const std::vector<ChatMessage>& messages, std::vector<int32_t>* tokens,
                    std::string* error) const;
  bool TokenizeText(std::string_view text, std::vector<int32_t>* tokens, std::string* error) const;
  bool Detokenize(const std::vector<int32_t>& tokens, std::string* text, std::string* error) const;

  // How many leading tokens of `prompt` slot `slot` could skip: the longest common prefix of
  // what its KV cache holds and `prompt`, short of the prompt's last token (which is always
  // evaluated for fresh logits). Call only while the slot is idle (the scheduler's lock
  // orders it after the slot's last Generate()).
  size_t ReusablePrefix(int32_t slot, const std::vector<int32_t>& prompt) const;

  // Runs one generation on `slot` (the caller owns the slot for the duration). Stops at
  // end of sequence, a stop string, max_tokens, the end of the context, or when `cancel`
  // becomes true (then returns kCancelled).
  GenerateResult Generate(int32_t slot, const GenerateParams& params, const TextSink& sink,
                          const std::atomic<bool>& cancel);

  // Interrupts the call running on `slot` as soon as possible. Any thread.
  void Cancel(int32_t slot);

 private:
  struct Slot;
  Engine() = default;
  bool SetSampler(Slot& slot, const SamplingParams& sampling, std::string* error);
  void RememberTokens(Slot& slot);
  bool TokenizeWithFlags(std::string_view text, uint32_t flags, std::vector<int32_t>* tokens,
                         std::string* error) const;

  struct ModelDeleter { void operator()(ember_model* m) const { ember_model_free(m); } };
  std::unique_ptr<ember_model, ModelDeleter> model_;
  EngineConfig config_;
  int32_t n_ctx_ = 0;
  int32_t n_vocab_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace ember::server

#endif  // EMBER_SERVER_ENGINE_H_
