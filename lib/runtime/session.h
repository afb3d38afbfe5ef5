// A session: one conversation's KV cache, position, last logits and sampler on a shared
// Model. Used by one thread at a time (the API layer enforces nothing; hosts must), except
// cancellation(), which any thread may use.
#ifndef EMBER_RUNTIME_SESSION_H_
#define EMBER_RUNTIME_SESSION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernels/parallel.h"
#include "lib/model/model.h"
#include "lib/runtime/cancellation.h"
#include "lib/runtime/sampler.h"

namespace ember {

struct KvRows;          // lib/model/forward.h
struct ForwardBuffers;  // lib/model/forward.h
namespace grammar {
class GrammarConstraint;  // lib/grammar/grammar_constraint.h
}

// Element type of the KV cache. F32 is exact; F16/BF16 halve KV memory and bandwidth.
enum class KvType { kF32 = 0, kF16 = 1, kBF16 = 2 };

struct SessionOptions {
  int32_t n_ctx = 0;          // 0 = min(model n_ctx_train, 4096)
  int32_t n_threads = 1;
  uint64_t max_kv_bytes = 0;  // 0 = unlimited
  // When the context is full, drop tokens after n_keep and recompute the kept ones' KV
  // (see session.cc). Full-attention models only: a sliding-window model (whose KV memory
  // is bounded anyway) still reports ContextFullError at n_ctx.
  bool context_shift = false;
  int32_t n_keep = 0;         // tokens kept at the front when shifting (BOS/system prefix)
  int32_t n_batch = 256;      // max tokens per forward call; longer inputs run in chunks
  KvType kv_type = KvType::kF32;
  // Batch invariance: logits that do not depend on how tokens were split into Eval calls
  // (kernels/matmul.h). Prefill then skips the kernels whose arithmetic differs from
  // decode's: AMX bf16 tiles (matmul_bench Q4_0 n512: 1.66x faster there) and AVX-512
  // row-layout Q8_0/Q4_0 panel GEMMs. Elsewhere it costs nothing; the server sets it so
  // its prompt cache cannot change a request's tokens.
  bool batch_invariant = false;
  SamplerParams sampler;      // the session's sampler (Sample(), generation)
};

class Session {
 public:
  // OutOfMemoryError if the KV cache would exceed max_kv_bytes or cannot be allocated.
  static absl::StatusOr<std::unique_ptr<Session>> Create(const Model& model,
                                                         const SessionOptions& options);
  ~Session();

  // Evaluates `tokens` at the current position as one batch. On success, last_logits()
  // holds the last token's logits; if all_logits is non-null it receives n*n_vocab floats.
  // Errors leave the session exactly as before the call: InvalidTokenError,
  // ContextFullError (unless context shifting makes room), CancelledError (checked via
  // `cancel` between layers/chunks), OutOfMemoryError.
  absl::Status Eval(absl::Span<const int32_t> tokens, float* all_logits,
                    const std::atomic<bool>* cancel);
  // Eval as one host call: runs inside a Cancellation::CallScope and polls cancellation().
  absl::Status Eval(absl::Span<const int32_t> tokens, float* all_logits);

  // Picks the next token from last_logits() with the session's sampler, among the ids a
  // sampler may pick (n_sampleable()); the context so far feeds the repetition penalty.
  // With a grammar (SamplerParams::grammar) only the ids the grammar state allows are
  // candidates, and the state then follows the picked id (see grammar()).
  // FailedPreconditionError (a state error) if nothing has been evaluated yet, or if the
  // grammar allows no token (it has ended: EOS was picked, or it is complete with no EOS
  // in the vocabulary; or no token of the vocabulary spells any continuation).
  absl::StatusOr<int32_t> Sample();
  // Sample() from `logits` (n_vocab floats, a row Eval wrote to all_logits) as if the
  // session held only its first n_context tokens (they feed the repetition penalty):
  // speculative decoding samples each position of a verified draft while the tokens after
  // it are already evaluated (lib/runtime/speculation.h). Errors: those of Sample(), and
  // InvalidArgumentError for a wrong logits size or n_context outside [0, n_past()].
  absl::StatusOr<int32_t> SampleAt(absl::Span<const float> logits, int64_t n_context);
  // The parse state of the sampler's grammar, null without one. It follows the ids Sample()
  // returns (not the ids evaluated), starts empty when the session is created, Reset(), or
  // given a sampler, and generation (lib/runtime/generator.h) empties it at the start of
  // each call: a grammar constrains each generation's output from its start. Session state
  // (lib/runtime/session_state.h) saves and restores it.
  grammar::GrammarConstraint* grammar();
  const grammar::GrammarConstraint* grammar() const;
  // min(n_vocab, the tokenizer's sampleable ids): output rows past the tokenizer's real
  // tokens (padding) are never sampled.
  int32_t n_sampleable() const;
  Sampler& sampler();
  const Sampler& sampler() const;
  // Replaces the sampler (a fresh random sequence from params.seed, no completion counts,
  // an empty grammar state); the tokens and KV cache stay. Errors (the session is then
  // unchanged): those of ValidateSamplerParams, InvalidTokenError for a logit-bias id >=
  // n_vocab, OutOfMemoryError if the vocabulary trie of a grammar cannot be built.
  absl::Status SetSampler(const SamplerParams& params);
  // Stops the running Eval/generation from another thread (see cancellation.h).
  Cancellation& cancellation() const;

  absl::Span<const float> last_logits() const;
  bool has_logits() const;
  int32_t n_past() const;      // tokens in the context (after any shifting)
  int32_t n_ctx() const;
  uint64_t kv_bytes() const;   // bytes the KV cache holds allocated right now
  absl::Span<const int32_t> tokens() const;  // the tokens currently in context
  // Removes the last `n` tokens, 0 <= n < n_past(), as if they had never been evaluated,
  // and recomputes the logits of the new last token (one single-token forward step).
  // Internal to generation (stop strings roll back tokens whose text was not emitted).
  // InvalidArgumentError for n outside that range; FailedPreconditionError if n exceeds
  // max_drop(). If the recomputation fails, the tokens are still removed but the session
  // has no logits until the next Eval.
  absl::Status DropLast(int32_t n);
  // DropLast without the recomputation: `logits` (n_vocab floats) are the new last token's,
  // which the caller has as a row of the Eval that evaluated the dropped tokens after it
  // (speculative decoding rejecting a draft). Same errors as DropLast, plus
  // InvalidArgumentError for a wrong logits size; the session is then unchanged.
  absl::Status DropEvaluated(int32_t n, absl::Span<const float> logits);
  // How many tokens DropLast can remove: unlimited (INT32_MAX) for full attention; for a
  // sliding-window session, the ring slots beyond the window (older rows are overwritten).
  int32_t max_drop() const;

  // Forgets every token, restarts the sampler's random sequence from its seed and empties
  // the grammar state.
  void Reset();

  const Model& model() const;
  const SessionOptions& options() const;

  // Forgets every token after the first n_keep (n_keep >= n_past: nothing to do). The last
  // logits go with them: has_logits() is false until the next Eval (EvalReuse recomputes
  // them). Errors, leaving the session unchanged: InvalidArgumentError (n_keep < 0),
  // UnsupportedError for a sliding-window session whose ring no longer holds the window of
  // keys that position n_keep needs (see kv_first_held()).
  absl::Status Truncate(int32_t n_keep);

  // An independent session on the same model with the same options, tokens, KV rows and
  // logits (its own thread pool and buffers). OutOfMemoryError.
  absl::StatusOr<std::unique_ptr<Session>> Clone() const;

  // Makes the session hold exactly `ids`: keeps the longest common prefix of tokens() and
  // `ids` and evaluates only the rest. At least one token is evaluated unless the session
  // already holds exactly `ids` with their logits, so last_logits() is always `ids`' last;
  // a sliding-window session whose ring has moved past the prefix starts over from 0.
  // *n_reused = tokens kept. Errors as Eval (on the evaluated rest), leaving the session as
  // before (rows after the prefix are then recomputed lazily by the next Eval).
  absl::Status EvalReuse(absl::Span<const int32_t> ids, const std::atomic<bool>* cancel,
                         int32_t* n_reused);
  // EvalReuse as one host call: runs inside a Cancellation::CallScope and polls cancellation().
  absl::Status EvalReuse(absl::Span<const int32_t> ids, int32_t* n_reused);

  // The steps of a batched evaluation (lib/runtime/batch_eval.h), which runs several
  // sessions' tokens through one forward pass.
  //
  // PrepareBatchStep: true if Eval(tokens) would be exactly one forward step of these tokens
  // at position n_past() (valid ids, every KV row of the history present, room without a
  // context shift, 1 .. min(n_batch, kRowExactMaxTokens) tokens); it then makes room for
  // them in the KV cache. False: nothing was done, and the caller runs Eval, which does
  // the extra work or returns the error. An error (OutOfMemoryError growing the KV cache)
  // is Eval's outcome for these tokens. The tokens, logits and KV rows of the history are
  // unchanged in every case; only rows of positions >= n_past() may be written until
  // CommitBatchStep (as a failed Eval leaves them).
  absl::StatusOr<bool> PrepareBatchStep(absl::Span<const int32_t> tokens);
  // Completes a prepared step whose forward pass succeeded: appends the tokens and takes
  // `logits` (n_vocab floats, the last token's) as last_logits().
  void CommitBatchStep(absl::Span<const int32_t> tokens, absl::Span<const float> logits);
  // The thread pool and the activation buffers Eval uses (a batch borrows one session's).
  Parallel& parallel();
  ForwardBuffers* forward_buffers();

  // The KV cache as session state (lib/runtime/session_state.h) sees it. The rows of
  // positions [kv_first_held(), n_kv_valid()) are in the cache; a query at position n reads
  // rows [FirstNeededRow(n), n) (all of them, or only the sliding window).
  int64_t n_kv_valid() const;
  int64_t kv_first_held() const;
  int64_t FirstNeededRow(int64_t n) const;
  const KvRows& kv_rows() const;
  // Replaces the whole state: makes room for n_kv_valid positions (OutOfMemoryError leaves
  // everything unchanged), calls write_rows(rows) to fill positions [first_held,
  // n_kv_valid), then takes `tokens` and `logits` (empty: no logits). Cannot fail after
  // write_rows; the caller has validated everything (n_kv_valid <= tokens.size() <= n_ctx,
  // first_held <= FirstNeededRow(n_kv_valid), logits empty or n_vocab long).
  absl::Status Restore(std::vector<int32_t> tokens, int64_t n_kv_valid, int64_t first_held,
                       absl::Span<const float> logits,
                       absl::FunctionRef<void(const KvRows&)> write_rows);

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember

#endif  // EMBER_RUNTIME_SESSION_H_
