// Text generation on a session: tokenize the prompt (BOS only at the start of a sequence),
// evaluate it, then sample, evaluate and stream token by token until a stop condition.
// The C API's ember_session_generate[_ex] are thin wrappers over this.
//
// Streaming contract (what the sink sees):
//   - Each generated token that stays in the session is passed to the sink exactly once,
//     in order, with the text it completes: valid UTF-8 (ill-formed bytes become U+FFFD),
//     never half a character (a character split across tokens goes with the token that
//     completes it), control tokens contributing no text. The text may be empty.
//   - With stop strings, a token is passed only once its text can no longer be part of a
//     stop string, so text that turns out to start a stop string never reaches the sink.
//     When a stop string appears, the text before it is passed (the part that belongs to
//     the token holding the stop string's first character, if any, in one call with token
//     -1), the stop string and everything after it are not, and every token whose text
//     reaches into the stop string is removed from the session: the session ends right
//     after the last token passed to the sink.
//   - When the sink asks to stop, tokens already evaluated but not yet passed are removed
//     from the session too. When generation ends any other way (end of generation, a stop
//     token, max_tokens, cancellation, a full context, an evaluation error), the tokens
//     still held back are passed first; the sink may still stop that.
//   - End-of-generation tokens (unless ignore_eos) and stop tokens end the generation
//     without being evaluated or passed: they never enter the session.
//   - Bytes of a character that the last token leaves incomplete are not emitted.
//
// Grammar (SamplerParams::grammar): Run empties the session's grammar state first, so the
// grammar constrains exactly this call's output. Every sampled token is one the grammar
// allows (EOS only once the text is complete); generation ends with kGrammarComplete as
// soon as the text is complete and the grammar allows nothing more, and otherwise by the
// usual conditions (EOS once complete; kMaxTokens whenever the limit comes first, even if
// the text happens to be complete, since the model might have continued it).
#ifndef EMBER_RUNTIME_GENERATOR_H_
#define EMBER_RUNTIME_GENERATOR_H_

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "lib/runtime/cancellation.h"
#include "lib/runtime/session.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/utf8.h"

namespace ember {

struct GenerateOptions {
  // Tokens to generate at most (>= 0); the default is no limit but the context.
  int32_t max_tokens = std::numeric_limits<int32_t>::max();
  bool ignore_eos = false;                // end-of-generation tokens do not stop
  std::vector<std::string> stop_strings;  // non-empty, valid UTF-8
  std::vector<int32_t> stop_tokens;       // ids that end generation like EOS
  // Speculative decoding by prompt lookup (speculation.h), Run only: each step evaluates
  // the sampled token with up to `lookup` draft tokens (0 = off; at most kMaxLookup) in
  // one forward pass and keeps the drafts that sampling confirms. The output is the very
  // token sequence of plain decoding, sampled or greedy: every position is sampled from
  // its own logits (bit-identical to a one-token step: row-exact matmuls, kernels/matmul.h)
  // with the same sampler state, and a draft only counts when it equals that sample.
  int32_t lookup = 0;
  // Speculative decoding with a draft model instead (Run only; not with lookup): `draft` is
  // a session on a smaller model with the same vocabulary, which proposes draft_n (1 ..
  // kMaxLookup) tokens a step greedily; verification is the same as lookup's, so the
  // output is again plain decoding's. The draft session is the caller's, used only during
  // Run, and ends holding the context plus its last guesses.
  Session* draft = nullptr;
  int32_t draft_n = 0;
};

// Drafts per step at most: the token and its drafts form one row-exact evaluation of at
// most kRowExactMaxTokens tokens (kernels/matmul.h) on every kernel.
inline constexpr int32_t kMaxLookup = 7;

// InvalidArgumentError for max_tokens < 0 or an empty stop string; InvalidUtf8Error for a
// stop string that is not UTF-8.
// InvalidArgumentError also for lookup or draft_n outside [0, kMaxLookup], draft_n > 0
// without a draft session or with lookup.
absl::Status ValidateGenerateOptions(const GenerateOptions& options);

// Why a generation ended. The values are the C API's EMBER_STOP_* codes.
enum class StopReason : int32_t {
  kNone = 0,             // the call failed without reaching a stop condition
  kEndOfGeneration = 1,  // sampled an end-of-generation token (Model::IsEndOfGeneration)
  kStopString = 2,
  kMaxTokens = 3,
  kCallback = 4,         // the sink asked to stop
  kCancelled = 5,
  kContextFull = 6,
  kStopToken = 7,        // sampled one of GenerateOptions::stop_tokens
  kGrammarComplete = 8,  // the sampler's grammar is complete and allows no further token
};

struct GenerateResult {
  int32_t n_generated = 0;  // tokens passed to the sink (and kept in the session)
  StopReason stop_reason = StopReason::kNone;
  int32_t n_drafted = 0;    // speculative decoding: draft tokens evaluated
  int32_t n_accepted = 0;   // of which sampling confirmed (each saved a forward step)
};

// Receives each generated token with its text (see the contract above); token is -1 for
// the text of a removed token before a stop string. Returns true to stop generating.
using TokenSink = absl::FunctionRef<bool(int32_t token, std::string_view text)>;

class Generator {
 public:
  Generator(Session& session, const GenerateOptions& options)
      : session_(session), options_(options) {}
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // One generation: `encode` says how to tokenize `prompt`, except that BOS is only ever
  // added to an empty session. Errors: those of ValidateGenerateOptions; InvalidArgument
  // for an empty prompt on a session that has evaluated nothing; the tokenizer's and
  // Session::Eval's (ContextFullError, CancelledError through session.cancellation(),
  // ...). Tokens passed to the sink before an error stay in the session. `result` is
  // filled on success and on error (stop_reason kCancelled / kContextFull for those).
  // Run is Begin, the prompt's evaluation, then Next / Evaluated until done().
  absl::Status Run(std::string_view prompt, EncodeOptions encode, TokenSink sink,
                   GenerateResult* result);

  // Stepping (the C API's ember_generator, driven by StepGenerators in
  // lib/runtime/generator_step.h): Start() once the session holds the prompt, then per
  // step Next(), evaluation of the token it returns (possibly batched with other
  // sessions'), and Evaluated() with that evaluation's status, until done(). The same
  // sink must be passed to every call of one generation. The generation counts as a call
  // on the session for its cancellation() from Start() until it is done.
  //
  // Starts a generation from the session's current logits. Errors (nothing changed then):
  // those of ValidateGenerateOptions, and InvalidArgument for options.lookup > 0;
  // FailedPrecondition when the session has no logits.
  absl::Status Start(TokenSink sink);
  // Phase (a): ends the generation if a stop condition holds before sampling (max_tokens,
  // cancellation), else samples the next token and ends on a stop or end-of-generation
  // token. Returns the token to evaluate, or -1 when the generation is done.
  int32_t Next(TokenSink sink);
  // Phase (b) done: `eval` is the outcome of evaluating the token Next() returned. Passes
  // its text on (or holds it back) and applies the stop conditions that follow it.
  void Evaluated(const absl::Status& eval, TokenSink sink);

  Session& session() const { return session_; }
  bool done() const { return done_; }
  const GenerateResult& result() const { return result_; }
  // The error the generation ended with (Run's return value), OK otherwise.
  const absl::Status& status() const { return status_; }

 private:
  // A generated token whose text is held back (it could still belong to a stop string).
  struct HeldToken {
    int32_t id;
    size_t text_end;  // offset in held_text_ just past this token's text
    bool spills;      // its last bytes start a character the next token completes
  };

  // Starts the completion: sampler penalties and grammar state, the step state.
  void Begin();
  // Next() in two halves: the checks before sampling (false: the generation ended), and
  // what follows a sampled token (returns it, or -1 when it ended the generation).
  bool ReadyToSample(TokenSink sink);
  int32_t Sampled(int32_t token, TokenSink sink);
  // kStopToken or kEndOfGeneration when sampling `token` ends the generation (it is then
  // never evaluated), else kNone.
  StopReason EndsWith(int32_t token) const;
  // One speculative step of Run for the token Next() returned (GenerateOptions::lookup).
  void Speculate(int32_t token, const std::atomic<bool>* cancel, TokenSink sink);
  // Up to `room` draft tokens to follow `token` (lookup or the draft model); none when the
  // draft model cannot run (its error is not the generation's).
  std::vector<int32_t> Draft(int32_t token, int64_t room, const std::atomic<bool>* cancel);
  // Drops the tokens evaluated past the one being handled (unprocessed_).
  absl::Status DropUnprocessed();
  // Ends normally with `reason` after passing what is held back (kCallback if the sink
  // stops that).
  void Stop(StopReason reason, TokenSink sink);
  // Ends with `status`; on an error what is held back is passed first.
  void Finish(absl::Status status, TokenSink sink);
  // Handles the text of a freshly evaluated token. Sets *stop when generation must end.
  absl::Status Emit(int32_t token, std::string_view text, TokenSink sink, bool* stop);
  // Passes the first `n_force` held tokens, then those whose text ends before `boundary`;
  // false if the sink asked to stop.
  bool Release(size_t boundary, size_t n_force, TokenSink sink);
  static constexpr size_t kAll = std::numeric_limits<size_t>::max();
  // Removes the held tokens from the session.
  absl::Status DropHeld();
  // Earliest offset in held_text_ where a stop string begins, or npos.
  size_t FindStopString() const;
  // Earliest offset from which the rest of held_text_ could still grow into a stop string.
  size_t HoldBackFrom() const;

  Session& session_;
  const GenerateOptions options_;
  Utf8Stream utf8_;
  std::string piece_, text_;
  std::string held_text_;
  std::deque<HeldToken> held_;

  // Step state.
  GenerateResult result_;
  absl::Status status_;
  bool done_ = false;
  int32_t n_sampled_ = 0;  // tokens sampled so far (max_tokens bounds them)
  int32_t pending_ = -1;   // the token Next() returned, until Evaluated()
  std::optional<Cancellation::CallScope> call_;  // a stepped generation's call scope
  // Speculation: accepted draft tokens already in the session past the token being
  // handled; a generation that ends before reaching them drops them. And the logits rows
  // of the last verification pass.
  int32_t unprocessed_ = 0;
  std::vector<float> draft_logits_;
};

}  // namespace ember

#endif  // EMBER_RUNTIME_GENERATOR_H_
