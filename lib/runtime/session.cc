// Session: the token history, the KV cache that matches it, and the last logits.
//
// Invariant: the KV rows of the first n_kv_valid tokens of `tokens` are computed (for a
// sliding-window model, the rows of the last `window` of them are present in the ring).
// Normally n_kv_valid == tokens.size(). Eval computes tokens[n_kv_valid..] followed by the
// new tokens, in chunks of at most n_batch, and commits only when everything succeeded, so
// an error or a cancellation leaves tokens, n_past and logits exactly as they were.
//
// Context shift (full-attention models, SessionOptions::context_shift): when the new tokens
// do not fit, the tokens after the first n_keep are dropped (half of them, or more if
// needed) and the KV rows of the kept tokens are RE-COMPUTED at their new positions. This
// is exact (the result equals evaluating the shortened context from scratch) at the cost
// of one prefill of the kept tokens. If that recomputation is cancelled, the old history
// is restored with n_kv_valid = n_keep: its rows after n_keep are recomputed lazily by the
// next Eval, which makes the rollback exact without keeping a copy of the cache.
#include "lib/runtime/session.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/grammar/grammar_constraint.h"
#include "kernels/matmul.h"
#include "lib/model/forward.h"
#include "lib/runtime/kv_cache.h"
#include "lib/runtime/thread_pool.h"

namespace ember {
namespace {

constexpr int32_t kDefaultMaxContext = 4096;

// ValidateSamplerParams plus what needs the model: logit-bias ids inside the vocabulary.
absl::Status ValidateSamplerFor(const Model& model, const SamplerParams& params) {
  EMBER_RETURN_IF_ERROR(ValidateSamplerParams(params));
  for (const LogitBias& b : params.logit_bias) {
    if (b.token >= model.config().n_vocab) {
      return InvalidTokenError(absl::StrCat("logit bias for token id ", b.token,
                                            ": the model has n_vocab ", model.config().n_vocab));
    }
  }
  return absl::OkStatus();
}

// The parse state for `params.grammar` on `model`'s vocabulary; nullopt without a grammar.
absl::StatusOr<std::optional<grammar::GrammarConstraint>> ConstraintFor(const Model& model,
                                                                       const SamplerParams& params) {
  if (params.grammar == nullptr) return std::nullopt;
  EMBER_ASSIGN_OR_RETURN(std::shared_ptr<const grammar::TokenTrie> trie, model.GrammarTrie());
  return std::optional<grammar::GrammarConstraint>(std::in_place, params.grammar, std::move(trie));
}

// The element type of the KV rows for SessionOptions::kv_type; nullopt if unknown.
std::optional<DType> KvDType(KvType type) {
  switch (type) {
    case KvType::kF32: return DType::kF32;
    case KvType::kF16: return DType::kF16;
    case KvType::kBF16: return DType::kBF16;
  }
  return std::nullopt;
}

}  // namespace

struct Session::Impl {
  Impl(const Model& m, const SessionOptions& o, int32_t ctx, int32_t batch, bool window,
       int64_t kv_capacity, DType kv_type)
      : model(m),
        options(o),
        n_ctx(ctx),
        n_batch(batch),
        windowed(window),
        kv(m.config().n_layer, int64_t{m.config().n_head_kv} * m.config().head_dim,
           kv_capacity, kv_type),
        sampler(o.sampler),
        n_sampleable(std::min(m.config().n_vocab, m.tokenizer().n_sampleable())) {}

  Parallel& par() { return pool ? static_cast<Parallel&>(*pool) : SerialParallel(); }

  const Model& model;
  const SessionOptions options;
  const int32_t n_ctx;
  const int32_t n_batch;
  const bool windowed;  // sliding-window attention: the KV cache is a ring
  KvCache kv;
  std::unique_ptr<ThreadPool> pool;  // null: run on the calling thread
  ForwardBuffers buf;
  std::vector<int32_t> tokens;
  int64_t n_kv_valid = 0;
  // Rows of positions below this may have been overwritten in the ring (0 for full
  // attention): each chunk written at positions [a, b) clobbers the rows before b - capacity.
  int64_t kv_first_held = 0;
  std::vector<float> logits;
  bool has_logits = false;
  Sampler sampler;
  std::optional<grammar::GrammarConstraint> grammar;  // the sampler's grammar state
  grammar::TokenMask mask;                            // scratch for Sample()
  const int32_t n_sampleable;
  // mutable: cancelling is not a change of the session's state, and any thread may do it.
  mutable Cancellation cancellation;
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const Model& model,
                                                         const SessionOptions& options) {
  const ModelConfig& c = model.config();
  if (options.n_ctx < 0 || options.n_batch < 0 || options.n_keep < 0) {
    return absl::InvalidArgumentError(absl::StrCat("session options: n_ctx ", options.n_ctx,
                                                   ", n_batch ", options.n_batch, ", n_keep ",
                                                   options.n_keep, " must not be negative"));
  }
  int32_t n_ctx = options.n_ctx;
  if (n_ctx == 0) {
    n_ctx = c.n_ctx_train > 0 ? std::min(c.n_ctx_train, kDefaultMaxContext) : kDefaultMaxContext;
  }
  EMBER_RETURN_IF_ERROR(ValidateSamplerFor(model, options.sampler));
  if (options.n_keep >= n_ctx) {
    return absl::InvalidArgumentError(
        absl::StrCat("session options: n_keep ", options.n_keep, " must be below n_ctx ", n_ctx));
  }
  const std::optional<DType> kv_type = KvDType(options.kv_type);
  if (!kv_type.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("session options: unknown kv_type ",
                                                   static_cast<int>(options.kv_type)));
  }
  const int32_t n_batch = std::min(options.n_batch > 0 ? options.n_batch : 256, n_ctx);
  // A window at least as long as the context is no window at all.
  const bool windowed = c.sliding_window > 0 && c.sliding_window < n_ctx;
  const int64_t capacity =
      windowed ? std::min<int64_t>(n_ctx, int64_t{c.sliding_window} + n_batch) : n_ctx;
  const int64_t kv_dim = int64_t{c.n_head_kv} * c.head_dim;
  const uint64_t kv_bytes = KvCache::BytesFor(c.n_layer, kv_dim, capacity, *kv_type);
  if (options.max_kv_bytes > 0 && kv_bytes > options.max_kv_bytes) {
    return OutOfMemoryError(absl::StrCat("the KV cache for ", capacity, " positions needs ",
                                         kv_bytes, " bytes, more than max_kv_bytes ",
                                         options.max_kv_bytes));
  }
  EMBER_ASSIGN_OR_RETURN(std::optional<grammar::GrammarConstraint> constraint,
                         ConstraintFor(model, options.sampler));
  auto impl = std::make_unique<Impl>(model, options, n_ctx, n_batch, windowed, capacity,
                                     *kv_type);
  impl->grammar = std::move(constraint);
  try {
    impl->logits.resize(static_cast<size_t>(c.n_vocab));
    if (options.n_threads > 1) impl->pool = std::make_unique<ThreadPool>(options.n_threads);
  } catch (const std::bad_alloc&) {
    return OutOfMemoryError("cannot allocate the session's logits");
  } catch (const std::system_error& e) {
    return OutOfMemoryError(absl::StrCat("cannot start ", options.n_threads, " threads: ", e.what()));
  }
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

absl::Status Session::Eval(absl::Span<const int32_t> tokens, float* all_logits,
                           const std::atomic<bool>* cancel) {
  Impl& s = *impl_;
  const ModelConfig& c = s.model.config();
  for (const int32_t id : tokens) {
    if (id < 0 || id >= c.n_vocab) {
      return InvalidTokenError(
          absl::StrCat("token id ", id, " is out of range: the model has n_vocab ", c.n_vocab));
    }
  }
  if (tokens.empty()) return absl::OkStatus();
  const int64_t n_new = static_cast<int64_t>(tokens.size());
  const int64_t n_past = static_cast<int64_t>(s.tokens.size());

  // The history the new tokens will follow, and how much of its KV is already computed.
  std::vector<int32_t> history;
  const std::vector<int32_t>* context = &s.tokens;
  int64_t n_valid = s.n_kv_valid;
  bool shifted = false;
  if (n_past + n_new > s.n_ctx) {
    if (!s.options.context_shift || s.windowed || s.options.n_keep + n_new > s.n_ctx) {
      return ContextFullError(absl::StrCat("context full: ", n_past, " tokens + ", n_new,
                                           " new > n_ctx ", s.n_ctx,
                                           s.options.context_shift ? " (even after shifting)" : ""));
    }
    const int64_t n_keep = std::min<int64_t>(s.options.n_keep, n_past);
    // Drop half of the shiftable tokens (or more if needed) so that shifts stay rare.
    const int64_t drop = std::max(n_past + n_new - s.n_ctx, (n_past - n_keep) / 2);
    history.assign(s.tokens.begin(), s.tokens.begin() + n_keep);
    history.insert(history.end(), s.tokens.begin() + n_keep + drop, s.tokens.end());
    context = &history;
    n_valid = std::min(n_valid, n_keep);
    shifted = true;
  }
  const int64_t n_context = static_cast<int64_t>(context->size());

  // Everything to compute: the context tokens without KV rows, then the new tokens.
  std::vector<int32_t> pending(context->begin() + n_valid, context->end());
  pending.insert(pending.end(), tokens.begin(), tokens.end());
  const int64_t n_pending = static_cast<int64_t>(pending.size());
  const int64_t first_new = n_pending - n_new;  // index in `pending` of tokens[0]

  EMBER_RETURN_IF_ERROR(s.kv.Reserve(n_context + n_new));

  const int32_t n_vocab = c.n_vocab;
  bool last_chunk_all = false;
  for (int64_t begin = 0; begin < n_pending; begin += s.n_batch) {
    const int64_t end = std::min(n_pending, begin + s.n_batch);
    const bool want_all = all_logits != nullptr && end > first_new;
    absl::Status status;
    s.kv_first_held = std::max(s.kv_first_held, n_valid + end - s.kv.capacity());
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      status = CancelledError("evaluation cancelled");
    } else {
      status = Forward(s.model, absl::MakeConstSpan(pending.data() + begin, end - begin),
                       n_valid + begin, s.kv.rows(), want_all, s.options.batch_invariant, cancel, s.par(),
                       &s.buf);
    }
    if (!status.ok()) {
      // Roll back. Unshifted, the context rows computed so far are still right for
      // s.tokens; after a shift, only the first n_keep are.
      if (shifted) {
        s.n_kv_valid = std::min<int64_t>(s.n_kv_valid, std::min<int64_t>(s.options.n_keep, n_past));
      } else {
        s.n_kv_valid = std::max(s.n_kv_valid, std::min(n_valid + begin, n_past));
      }
      // In a window ring, a failure after two or more chunks has overwritten part of the
      // window the kept rows need (each chunk only spares the window before itself): then
      // recompute the whole history lazily, which is exact.
      if (s.n_kv_valid > 0 && FirstNeededRow(s.n_kv_valid) < s.kv_first_held) s.n_kv_valid = 0;
      return status;
    }
    if (want_all) {
      for (int64_t i = std::max(begin, first_new); i < end; ++i) {
        std::memcpy(all_logits + (i - first_new) * n_vocab,
                    s.buf.logits.data() + (i - begin) * n_vocab, sizeof(float) * n_vocab);
      }
    }
    last_chunk_all = want_all;
  }

  // Commit.
  const float* last = s.buf.logits.data();
  if (last_chunk_all) {
    const int64_t last_chunk_begin = (n_pending - 1) / s.n_batch * s.n_batch;
    last += (n_pending - 1 - last_chunk_begin) * n_vocab;
  }
  std::memcpy(s.logits.data(), last, sizeof(float) * n_vocab);
  s.has_logits = true;
  if (shifted) s.tokens = std::move(history);
  s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
  s.n_kv_valid = static_cast<int64_t>(s.tokens.size());
  return absl::OkStatus();
}

absl::StatusOr<bool> Session::PrepareBatchStep(absl::Span<const int32_t> tokens) {
  Impl& s = *impl_;
  const int32_t n_vocab = s.model.config().n_vocab;
  const int64_t n_new = static_cast<int64_t>(tokens.size());
  const int64_t n_past = static_cast<int64_t>(s.tokens.size());
  if (n_new == 0 || n_new > std::min<int64_t>(s.n_batch, kRowExactMaxTokens)) return false;
  if (s.n_kv_valid != n_past || n_past + n_new > s.n_ctx) return false;
  for (const int32_t id : tokens) {
    if (id < 0 || id >= n_vocab) return false;
  }
  EMBER_RETURN_IF_ERROR(s.kv.Reserve(n_past + n_new));
  // As in Eval: the step's rows overwrite ring slots of positions before n_past + n_new -
  // capacity. One step of <= n_batch tokens never reaches the window the history needs.
  s.kv_first_held = std::max(s.kv_first_held, n_past + n_new - s.kv.capacity());
  return true;
}

void Session::CommitBatchStep(absl::Span<const int32_t> tokens, absl::Span<const float> logits) {
  Impl& s = *impl_;
  std::copy(logits.begin(), logits.end(), s.logits.begin());
  s.has_logits = true;
  s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
  s.n_kv_valid = static_cast<int64_t>(s.tokens.size());
}

Parallel& Session::parallel() { return impl_->par(); }
ForwardBuffers* Session::forward_buffers() { return &impl_->buf; }

absl::Status Session::Eval(absl::Span<const int32_t> tokens, float* all_logits) {
  Cancellation::CallScope call(impl_->cancellation);
  return Eval(tokens, all_logits, impl_->cancellation.flag());
}

absl::Status Session::EvalReuse(absl::Span<const int32_t> ids, int32_t* n_reused) {
  Cancellation::CallScope call(impl_->cancellation);
  return EvalReuse(ids, impl_->cancellation.flag(), n_reused);
}

int32_t Session::max_drop() const {
  if (!impl_->windowed) return INT32_MAX;
  // Re-evaluating position q reads the rows of (q - window, q]; a dropped position r wrote
  // the slot of r - capacity, which is older than that window while r - q <= capacity - window.
  return static_cast<int32_t>(impl_->kv.capacity() - impl_->model.config().sliding_window);
}

absl::Status Session::DropLast(int32_t n) {
  Impl& s = *impl_;
  const int64_t n_past = static_cast<int64_t>(s.tokens.size());
  if (n < 0 || n >= n_past) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot drop ", n, " of ", n_past, " tokens (at least one must stay)"));
  }
  if (n == 0) return absl::OkStatus();
  if (n > max_drop()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot drop ", n, " tokens: the sliding-window cache keeps only ", max_drop()));
  }
  // Re-evaluate the new last token: its KV row is recomputed identically, and Eval's
  // all-or-nothing commit gives back its logits.
  const int32_t last = s.tokens[static_cast<size_t>(n_past - n - 1)];
  s.tokens.resize(static_cast<size_t>(n_past - n - 1));
  s.n_kv_valid = std::min<int64_t>(s.n_kv_valid, static_cast<int64_t>(s.tokens.size()));
  const absl::Status status = Eval(absl::MakeConstSpan(&last, 1), nullptr, nullptr);
  if (!status.ok()) {
    // Keep the token; its row is recomputed lazily by the next Eval (n_kv_valid < size).
    s.tokens.push_back(last);
    s.has_logits = false;
  }
  return status;
}

absl::Status Session::DropEvaluated(int32_t n, absl::Span<const float> logits) {
  Impl& s = *impl_;
  const int64_t n_past = static_cast<int64_t>(s.tokens.size());
  if (n < 0 || n >= n_past || logits.size() != s.logits.size()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot drop ", n, " of ", n_past, " tokens with ",
                                                   logits.size(), " logits (at least one must stay)"));
  }
  if (n > max_drop()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot drop ", n, " tokens: the sliding-window cache keeps only ", max_drop()));
  }
  s.tokens.resize(static_cast<size_t>(n_past - n));
  s.n_kv_valid = std::min<int64_t>(s.n_kv_valid, static_cast<int64_t>(s.tokens.size()));
  std::copy(logits.begin(), logits.end(), s.logits.begin());
  s.has_logits = true;
  return absl::OkStatus();
}

absl::StatusOr<int32_t> Session::Sample() {
  Impl& s = *impl_;
  if (!s.has_logits) return absl::FailedPreconditionError("nothing has been evaluated yet");
  return SampleAt(s.logits, static_cast<int64_t>(s.tokens.size()));
}

absl::StatusOr<int32_t> Session::SampleAt(absl::Span<const float> logits, int64_t n_context) {
  Impl& s = *impl_;
  if (logits.size() != s.logits.size() || n_context < 0 || n_context > static_cast<int64_t>(s.tokens.size())) {
    return absl::InvalidArgumentError(absl::StrCat("SampleAt: ", logits.size(), " logits for ", s.logits.size(),
                                                   ", context ", n_context, " of ", s.tokens.size()));
  }
  const absl::Span<const int32_t> history = absl::MakeConstSpan(s.tokens).first(static_cast<size_t>(n_context));
  if (!s.grammar.has_value()) return s.sampler.Sample(logits, s.n_sampleable, history);
  s.grammar->ComputeMask(&s.mask);
  // The mask may be wider than what a sampler can pick; only the pickable part counts.
  bool any = false;
  const size_t n_words = (static_cast<size_t>(s.n_sampleable) + 63) / 64;
  for (size_t w = 0; w < n_words && w < s.mask.words.size() && !any; ++w) {
    uint64_t bits = s.mask.words[w];
    if (w + 1 == n_words && s.n_sampleable % 64 != 0) bits &= (uint64_t{1} << (s.n_sampleable % 64)) - 1;
    any = bits != 0;
  }
  if (!any) {
    return absl::FailedPreconditionError(
        s.grammar->IsComplete() ? "the grammar is complete: no token may follow"
                                : "the grammar allows no token of this vocabulary here");
  }
  const int32_t token = s.sampler.Sample(logits, s.n_sampleable, history, s.mask.words);
  // The mask came from this very state, so Accept cannot refuse; if it did, the engine
  // would be broken, and saying so beats returning a token the grammar does not allow.
  absl::Status accepted = s.grammar->Accept(token);
  if (!accepted.ok()) return absl::InternalError(absl::StrCat("grammar mask and state disagree: ", accepted.message()));
  return token;
}

grammar::GrammarConstraint* Session::grammar() { return impl_->grammar ? &*impl_->grammar : nullptr; }
const grammar::GrammarConstraint* Session::grammar() const {
  return impl_->grammar ? &*impl_->grammar : nullptr;
}

int32_t Session::n_sampleable() const { return impl_->n_sampleable; }
Sampler& Session::sampler() { return impl_->sampler; }

absl::Status Session::SetSampler(const SamplerParams& params) {
  EMBER_RETURN_IF_ERROR(ValidateSamplerFor(impl_->model, params));
  EMBER_ASSIGN_OR_RETURN(std::optional<grammar::GrammarConstraint> constraint,
                         ConstraintFor(impl_->model, params));
  impl_->sampler = Sampler(params);
  impl_->grammar = std::move(constraint);
  return absl::OkStatus();
}
const Sampler& Session::sampler() const { return impl_->sampler; }
Cancellation& Session::cancellation() const { return impl_->cancellation; }

absl::Span<const float> Session::last_logits() const {
  if (!impl_->has_logits) return {};
  return impl_->logits;
}
bool Session::has_logits() const { return impl_->has_logits; }
int32_t Session::n_past() const { return static_cast<int32_t>(impl_->tokens.size()); }
int32_t Session::n_ctx() const { return impl_->n_ctx; }
uint64_t Session::kv_bytes() const { return impl_->kv.bytes(); }
absl::Span<const int32_t> Session::tokens() const { return impl_->tokens; }
const Model& Session::model() const { return impl_->model; }

void Session::Reset() {
  impl_->tokens.clear();
  impl_->n_kv_valid = 0;
  impl_->kv_first_held = 0;
  impl_->has_logits = false;
  impl_->sampler.Reset();
  if (impl_->grammar) impl_->grammar->Reset();
}

const SessionOptions& Session::options() const { return impl_->options; }
int64_t Session::n_kv_valid() const { return impl_->n_kv_valid; }
int64_t Session::kv_first_held() const { return impl_->kv_first_held; }
const KvRows& Session::kv_rows() const { return impl_->kv.rows(); }

int64_t Session::FirstNeededRow(int64_t n) const {
  return impl_->windowed ? std::max<int64_t>(0, n - impl_->model.config().sliding_window + 1) : 0;
}

absl::Status Session::Truncate(int32_t n_keep) {
  Impl& s = *impl_;
  if (n_keep < 0) return absl::InvalidArgumentError(absl::StrCat("truncate: n_keep ", n_keep, " < 0"));
  if (static_cast<size_t>(n_keep) >= s.tokens.size()) return absl::OkStatus();
  const int64_t valid = std::min<int64_t>(s.n_kv_valid, n_keep);
  if (valid > 0 && FirstNeededRow(valid) < s.kv_first_held) {
    return UnsupportedError(absl::StrCat(
        "truncate to ", n_keep, " tokens: the sliding window of ", s.model.config().sliding_window,
        " positions before it has left the KV ring (it holds positions from ", s.kv_first_held,
        "); re-evaluate the prefix instead"));
  }
  s.tokens.resize(static_cast<size_t>(n_keep));
  s.n_kv_valid = valid;
  if (n_keep == 0) s.kv_first_held = 0;
  s.has_logits = false;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Session>> Session::Clone() const {
  const Impl& s = *impl_;
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<Session> copy, Create(s.model, s.options));
  Impl& d = *copy->impl_;
  EMBER_RETURN_IF_ERROR(d.kv.CopyFrom(s.kv));
  d.tokens = s.tokens;
  d.n_kv_valid = s.n_kv_valid;
  d.kv_first_held = s.kv_first_held;
  d.logits = s.logits;
  d.has_logits = s.has_logits;
  d.sampler = s.sampler;  // parameters and RNG position: the fork samples as the original would
  d.grammar = s.grammar;  // and from the same point of its grammar
  return copy;
}

absl::Status Session::EvalReuse(absl::Span<const int32_t> ids, const std::atomic<bool>* cancel,
                                int32_t* n_reused) {
  Impl& s = *impl_;
  *n_reused = 0;
  const int32_t n_vocab = s.model.config().n_vocab;
  for (const int32_t id : ids) {
    if (id < 0 || id >= n_vocab) {
      return InvalidTokenError(
          absl::StrCat("token id ", id, " is out of range: the model has n_vocab ", n_vocab));
    }
  }
  const size_t n = ids.size();
  size_t common = 0;
  while (common < n && common < s.tokens.size() && s.tokens[common] == ids[common]) ++common;
  if (common == n && n == s.tokens.size() && (s.has_logits || n == 0)) {
    *n_reused = static_cast<int32_t>(n);
    return absl::OkStatus();
  }
  if (n == 0) return Truncate(0);
  // The last id is always evaluated: its logits are the call's result.
  int64_t keep = static_cast<int64_t>(std::min(common, n - 1));
  // Rows a window ring no longer holds cannot be reused; starting over always works.
  const auto window_held = [&](int64_t k) {
    return k == 0 || FirstNeededRow(std::min(k, s.n_kv_valid)) >= s.kv_first_held;
  };
  if (!window_held(keep)) keep = 0;

  std::vector<int32_t> old_tokens = s.tokens;  // copied before anything changes
  const int64_t old_valid = s.n_kv_valid;
  const bool old_has_logits = s.has_logits;
  s.tokens.resize(static_cast<size_t>(keep));
  s.n_kv_valid = std::min(s.n_kv_valid, keep);
  absl::Status status = Eval(ids.subspan(static_cast<size_t>(keep)), nullptr, cancel);
  if (!status.ok()) {
    // Eval left the session at the prefix, but the rows after it may now belong to `ids`:
    // the old tokens after the prefix are recomputed by the next Eval (from 0 if the ring
    // lost even the prefix's window meanwhile). The logits were not touched.
    s.tokens.swap(old_tokens);
    s.n_kv_valid = window_held(keep) ? std::min(old_valid, keep) : 0;
    s.has_logits = old_has_logits;
    return status;
  }
  *n_reused = static_cast<int32_t>(keep);
  return absl::OkStatus();
}

absl::Status Session::Restore(std::vector<int32_t> tokens, int64_t n_kv_valid, int64_t first_held,
                              absl::Span<const float> logits,
                              absl::FunctionRef<void(const KvRows&)> write_rows) {
  Impl& s = *impl_;
  EMBER_RETURN_IF_ERROR(s.kv.Reserve(n_kv_valid));
  write_rows(s.kv.rows());
  s.tokens = std::move(tokens);
  s.n_kv_valid = n_kv_valid;
  s.kv_first_held = first_held;
  s.has_logits = !logits.empty();
  if (s.has_logits) std::copy(logits.begin(), logits.end(), s.logits.begin());
  return absl::OkStatus();
}

}  // namespace ember
