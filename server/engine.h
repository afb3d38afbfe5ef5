// The inference backend of `ember serve`: the ONLY file pair in server/ that calls ember.h.
// One model shared by N slots; each slot is a session (KV cache + sampler) that runs one
// generation at a time. Everything above this (HTTP, queueing, OpenAI shapes) is independent
// of how generation is done, so the backend can move to new library functions in one place.
//
// Per request a slot's session gets the request's sampler (ember_session_set_sampler: the KV
// cache stays; with response_format, its JSON grammar), re-evaluates only what its KV cache
// does not already hold (ember_session_eval_reuse: longest common prefix), and starts a
// stepped generation (ember_generator_create) with the library's stop strings,
// end-of-generation set and stop reasons. Continuous batching: Step() advances the
// generations of all active slots by one token with one ember_generator_step, which
// evaluates them in one batched forward pass; a slot joins (Start) or leaves (Finish)
// between steps. The library gives every session the same logits in a batch as alone, so a
// request's text does not depend on what else runs.
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

// Constrained output (OpenAI's response_format), as an ember grammar.
struct OutputFormat {
  ResponseFormat kind = ResponseFormat::kText;
  std::string json_schema;  // for kJsonSchema
  bool operator==(const OutputFormat&) const = default;
};

struct GenerateParams {
  std::vector<int32_t> prompt;  // the whole prompt, as tokens
  int32_t max_tokens = 0;       // > 0; the engine also stops at the end of the context
  SamplingParams sampling;
  OutputFormat format;
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

// Receives generated text in order (valid UTF-8, never a stop string). Called on the thread
// that calls Step(); the first call marks the first token.
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
  // orders it after the slot's last Finish()).
  size_t ReusablePrefix(int32_t slot, const std::vector<int32_t>& prompt) const;

  // Checks that `format` compiles to a grammar: false with the library's message (a 400
  // for the request's response_format) otherwise. Any thread.
  bool CheckFormat(const OutputFormat& format, std::string* error) const;

  // Starts a generation on the idle `slot`: the request's sampler, the prompt (reusing the
  // slot's KV prefix; cancellable with Cancel()), then a stepped generation whose text goes
  // to `sink`. true when it runs (advance it with Step(), end it with Finish()); false when
  // it already ended (an error, a cancel, or nothing to generate), with *result final.
  bool Start(int32_t slot, const GenerateParams& params, TextSink sink, GenerateResult* result);
  // One decode step over the running generations of `slots` (distinct, all started): one
  // batched forward pass. Text goes to their sinks.
  void Step(const std::vector<int32_t>& slots);
  // Whether the generation on `slot` has ended by itself (a stop condition or an error).
  bool Done(int32_t slot) const;
  // Ends the generation on `slot` (done or not: `cancelled` says the host stopped it) and
  // returns its result. The slot is idle afterwards.
  GenerateResult Finish(int32_t slot, bool cancelled);

  // Interrupts a prompt evaluation running on `slot` (Start) as soon as possible, and makes
  // its generation end at its next step. Any thread.
  void Cancel(int32_t slot);

 private:
  struct Slot;
  Engine() = default;
  bool SetSampler(Slot& slot, const SamplingParams& sampling, const OutputFormat& format, std::string* error);
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
