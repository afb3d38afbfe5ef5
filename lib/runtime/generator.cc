#include "lib/runtime/generator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/runtime/speculation.h"

namespace ember {

absl::Status ValidateGenerateOptions(const GenerateOptions& options) {
  if (options.max_tokens < 0) return absl::InvalidArgumentError("max_tokens < 0");
  if (options.lookup < 0 || options.lookup > kMaxLookup) {
    return absl::InvalidArgumentError(absl::StrCat("lookup ", options.lookup, " outside [0, ", kMaxLookup, "]"));
  }
  if (options.draft_n < 0 || options.draft_n > kMaxLookup) {
    return absl::InvalidArgumentError(absl::StrCat("draft_n ", options.draft_n, " outside [0, ", kMaxLookup, "]"));
  }
  if (options.draft_n > 0 && options.draft == nullptr) return absl::InvalidArgumentError("draft_n without a draft session");
  if (options.draft_n > 0 && options.lookup > 0) {
    return absl::InvalidArgumentError("lookup and a draft model are alternatives: set one");
  }
  for (const std::string& stop : options.stop_strings) {
    if (stop.empty()) return absl::InvalidArgumentError("empty stop string");
    EMBER_RETURN_IF_ERROR(CheckUtf8(stop, "stop string"));
  }
  return absl::OkStatus();
}

absl::Status Generator::Run(std::string_view prompt, EncodeOptions encode, TokenSink sink,
                            GenerateResult* result) {
  *result = GenerateResult();
  EMBER_RETURN_IF_ERROR(ValidateGenerateOptions(options_));
  // BOS only starts a sequence: a continuation must not insert one mid-context.
  if (session_.n_past() > 0) encode.add_bos = false;
  std::vector<int32_t> ids;
  EMBER_RETURN_IF_ERROR(session_.model().tokenizer().Encode(prompt, encode, &ids));
  if (ids.empty() && !session_.has_logits()) {
    return absl::InvalidArgumentError("empty prompt on an empty session");
  }

  if (options_.draft_n > 0) {
    if (options_.draft == &session_) return absl::InvalidArgumentError("the draft session is the session itself");
    if (options_.draft->model().config().n_vocab != session_.model().config().n_vocab ||
        options_.draft->n_sampleable() != session_.n_sampleable()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the draft model's vocabulary (", options_.draft->model().config().n_vocab,
          " tokens) is not the model's (", session_.model().config().n_vocab, ")"));
    }
  }
  Cancellation::CallScope call(session_.cancellation());
  const std::atomic<bool>* cancel = session_.cancellation().flag();
  Begin();
  if (!ids.empty()) {
    if (absl::Status st = session_.Eval(ids, nullptr, cancel); !st.ok()) Finish(std::move(st), sink);
  }
  while (!done_) {
    const int32_t token = Next(sink);
    if (token < 0) continue;
    if (options_.lookup > 0 || options_.draft_n > 0) {
      Speculate(token, cancel, sink);
    } else {
      Evaluated(session_.Eval(absl::MakeConstSpan(&token, 1), nullptr, cancel), sink);
    }
  }
  *result = result_;
  return status_;
}

absl::Status Generator::Start(TokenSink sink) {
  EMBER_RETURN_IF_ERROR(ValidateGenerateOptions(options_));
  if (options_.lookup > 0) {
    return absl::InvalidArgumentError("speculative decoding (lookup) needs Run: a stepped generation evaluates one token per step");
  }
  if (!session_.has_logits()) {
    return absl::FailedPreconditionError("the session has no logits: evaluate the prompt first");
  }
  call_.emplace(session_.cancellation());
  Begin();
  if (options_.max_tokens == 0) Stop(StopReason::kMaxTokens, sink);
  return absl::OkStatus();
}

void Generator::Begin() {
  result_ = GenerateResult();
  status_ = absl::OkStatus();
  done_ = false;
  n_sampled_ = 0;
  pending_ = -1;
  unprocessed_ = 0;
  session_.sampler().StartCompletion();  // penalties count this completion's tokens only
  if (grammar::GrammarConstraint* g = session_.grammar()) g->Reset();
}

int32_t Generator::Next(TokenSink sink) {
  if (!ReadyToSample(sink)) return -1;
  absl::StatusOr<int32_t> sampled = session_.Sample();
  if (!sampled.ok()) {
    Finish(sampled.status(), sink);
    return -1;
  }
  return Sampled(*sampled, sink);
}

bool Generator::ReadyToSample(TokenSink sink) {
  if (done_) return false;
  if (n_sampled_ >= options_.max_tokens) {
    Stop(StopReason::kMaxTokens, sink);
    return false;
  }
  if (session_.cancellation().requested()) {
    Finish(CancelledError("generation cancelled"), sink);
    return false;
  }
  return true;
}

StopReason Generator::EndsWith(int32_t token) const {
  if (std::find(options_.stop_tokens.begin(), options_.stop_tokens.end(), token) != options_.stop_tokens.end()) {
    return StopReason::kStopToken;
  }
  if (!options_.ignore_eos && session_.model().IsEndOfGeneration(token)) return StopReason::kEndOfGeneration;
  return StopReason::kNone;
}

int32_t Generator::Sampled(int32_t token, TokenSink sink) {
  ++n_sampled_;
  if (const StopReason end = EndsWith(token); end != StopReason::kNone) {
    Stop(end, sink);
    return -1;
  }
  pending_ = token;
  return token;
}

// Verification samples every position before any of them is handled, so the session must
// hold exactly the accepted tokens before text moves: the rejected drafts go first (their
// logits row gives the new last token its logits without a forward step), and a generation
// that ends on an accepted token drops the ones after it (unprocessed_), leaving the session
// as plain decoding would. Sampling past a token that then ends the generation by a stop
// string or the sink's request costs nothing visible but the sampler's random state, which
// plain decoding would not have advanced: only a later generation on the same session
// could tell.
void Generator::Speculate(int32_t token, const std::atomic<bool>* cancel, TokenSink sink) {
  const int32_t n_past = session_.n_past();
  int64_t room = std::min<int64_t>(std::max(options_.lookup, options_.draft_n), int64_t{options_.max_tokens} - n_sampled_);
  room = std::min<int64_t>(room, int64_t{session_.n_ctx()} - n_past - 1);
  room = std::min<int64_t>(room, int64_t{session_.max_drop()} - static_cast<int64_t>(held_.size()) - 1);
  std::vector<int32_t> batch;
  if (room > 0) batch = Draft(token, room, cancel);
  if (batch.empty()) {
    Evaluated(session_.Eval(absl::MakeConstSpan(&token, 1), nullptr, cancel), sink);
    return;
  }
  const int32_t k = static_cast<int32_t>(batch.size());
  batch.insert(batch.begin(), token);
  const size_t n_vocab = static_cast<size_t>(session_.model().config().n_vocab);
  draft_logits_.resize(n_vocab * batch.size());
  if (absl::Status st = session_.Eval(batch, draft_logits_.data(), cancel); !st.ok()) {
    Evaluated(st, sink);  // the session is unchanged: the token's evaluation failed
    return;
  }
  result_.n_drafted += k;
  auto row = [&](int32_t i) { return absl::MakeConstSpan(draft_logits_).subspan(n_vocab * i, n_vocab); };
  // Verify: position a + 1 (after the token and a accepted drafts) samples from row a.
  int32_t accepted = 0, next = -1;
  absl::Status sample_error;
  for (; accepted < k; ++accepted) {
    if (session_.cancellation().requested()) break;
    if (const grammar::GrammarConstraint* g = session_.grammar(); g != nullptr && !g->CanContinue()) break;
    absl::StatusOr<int32_t> s = session_.SampleAt(row(accepted), n_past + 1 + accepted);
    if (!s.ok()) {
      sample_error = s.status();
      break;
    }
    if (*s != batch[accepted + 1] || EndsWith(*s) != StopReason::kNone) {
      next = *s;
      break;
    }
  }
  result_.n_accepted += accepted;
  if (accepted < k) {
    if (absl::Status st = session_.DropEvaluated(k - accepted, row(accepted)); !st.ok()) {
      pending_ = -1;
      return Finish(std::move(st), sink);  // cannot happen: room bounded the drafts by max_drop
    }
  }
  unprocessed_ = accepted;
  Evaluated(absl::OkStatus(), sink);
  for (int32_t i = 1; i <= accepted && !done_; ++i) {
    unprocessed_ = accepted - i;
    if (Sampled(batch[i], sink) >= 0) Evaluated(absl::OkStatus(), sink);
  }
  unprocessed_ = 0;
  if (done_) return;
  if (!sample_error.ok()) return Finish(std::move(sample_error), sink);
  if (next < 0) return;  // all confirmed, or stopped early: the next step samples as usual
  if (Sampled(next, sink) >= 0) Evaluated(session_.Eval(absl::MakeConstSpan(&next, 1), nullptr, cancel), sink);
}

std::vector<int32_t> Generator::Draft(int32_t token, int64_t room, const std::atomic<bool>* cancel) {
  std::vector<int32_t> context(session_.tokens().begin(), session_.tokens().end());
  context.push_back(token);
  if (options_.draft_n == 0) return PromptLookupDraft(context, static_cast<int32_t>(room));
  // The draft model's greedy guesses: it catches up with the context (its cache keeps the
  // common prefix of the last step), then extends it one token at a time.
  Session& draft = *options_.draft;
  std::vector<int32_t> guesses;
  int32_t reused = 0;
  if (!draft.EvalReuse(context, cancel, &reused).ok()) return guesses;
  while (static_cast<int64_t>(guesses.size()) < room) {
    const absl::Span<const float> logits = draft.last_logits().first(static_cast<size_t>(draft.n_sampleable()));
    const int32_t best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    guesses.push_back(best);
    if (static_cast<int64_t>(guesses.size()) == room) break;
    if (!draft.Eval(absl::MakeConstSpan(&best, 1), nullptr, cancel).ok()) break;
  }
  return guesses;
}

absl::Status Generator::DropUnprocessed() {
  if (unprocessed_ == 0) return absl::OkStatus();
  const int32_t n = unprocessed_;
  unprocessed_ = 0;
  return session_.DropLast(n);
}

void Generator::Evaluated(const absl::Status& eval, TokenSink sink) {
  if (done_ || pending_ < 0) return;  // no token was handed out
  const int32_t token = pending_;
  pending_ = -1;
  if (!eval.ok()) return Finish(eval, sink);
  if (absl::Status st = session_.model().TokenText(token, /*skip_special=*/true, &piece_); !st.ok()) {
    return Finish(std::move(st), sink);
  }
  text_.clear();
  utf8_.Push(piece_, &text_);
  bool stop = false;
  absl::Status st = Emit(token, text_, sink, &stop);
  if (!st.ok() || stop) return Finish(std::move(st), sink);
  if (const grammar::GrammarConstraint* g = session_.grammar(); g != nullptr && !g->CanContinue()) {
    // Complete is the only way to reach the end: the mask never leads into a dead end.
    return Stop(StopReason::kGrammarComplete, sink);
  }
  if (n_sampled_ >= options_.max_tokens) Stop(StopReason::kMaxTokens, sink);
}

void Generator::Stop(StopReason reason, TokenSink sink) {
  if (absl::Status dropped = DropUnprocessed(); !dropped.ok()) return Finish(std::move(dropped), sink);
  result_.stop_reason = reason;
  absl::Status st;
  if (!Release(0, kAll, sink)) {
    result_.stop_reason = StopReason::kCallback;
    st = DropHeld();
  }
  Finish(std::move(st), sink);
}

void Generator::Finish(absl::Status status, TokenSink sink) {
  if (absl::Status dropped = DropUnprocessed(); status.ok()) status = std::move(dropped);
  done_ = true;
  pending_ = -1;
  if (!status.ok()) {
    // Generation ended on an error: what is held back is real text all the same. If the
    // sink stops during this, the rest is dropped; the error is what the caller learns.
    if (!Release(0, kAll, sink)) DropHeld().IgnoreError();
    if (absl::IsCancelled(status)) result_.stop_reason = StopReason::kCancelled;
    if (absl::IsOutOfRange(status)) result_.stop_reason = StopReason::kContextFull;
  }
  status_ = std::move(status);
  call_.reset();  // a late cancel must not reach the session's next call
}

absl::Status Generator::Emit(int32_t token, std::string_view text, TokenSink sink, bool* stop) {
  if (options_.stop_strings.empty()) {
    ++result_.n_generated;
    if (sink(token, text)) {
      result_.stop_reason = StopReason::kCallback;
      *stop = true;
    }
    return absl::OkStatus();
  }
  held_text_.append(text);
  held_.push_back({token, held_text_.size(), utf8_.pending_size() > 0});

  const size_t match = FindStopString();
  if (match != std::string::npos) {
    *stop = true;
    const size_t held_before = held_text_.size();
    if (!Release(match, 0, sink)) {
      result_.stop_reason = StopReason::kCallback;
      return DropHeld();
    }
    result_.stop_reason = StopReason::kStopString;
    // The text before the stop string that belongs to a token reaching into it. Its
    // return value does not matter: generation ends here either way.
    const size_t rest = match - (held_before - held_text_.size());
    if (rest > 0) sink(-1, std::string_view(held_text_).substr(0, rest));
    return DropHeld();
  }
  // A sliding-window session can only take back so many tokens (Session::max_drop):
  // beyond that, the oldest held tokens are passed even though they might start a stop
  // string.
  const size_t max_held = static_cast<size_t>(session_.max_drop());
  const size_t n_force = held_.size() > max_held ? held_.size() - max_held : 0;
  if (!Release(HoldBackFrom(), n_force, sink)) {
    result_.stop_reason = StopReason::kCallback;
    *stop = true;
    return DropHeld();
  }
  return absl::OkStatus();
}

bool Generator::Release(size_t boundary, size_t n_force, TokenSink sink) {
  size_t start = 0;
  bool stopped = false;
  for (size_t n = 0; !held_.empty() && !stopped; ++n) {
    const HeldToken& t = held_.front();
    // A token spilling into the character at `boundary` has bytes past it.
    const bool before = t.text_end < boundary || (t.text_end == boundary && !t.spills);
    if (n >= n_force && !before) break;
    ++result_.n_generated;
    stopped = sink(t.id, std::string_view(held_text_).substr(start, t.text_end - start));
    start = t.text_end;
    held_.pop_front();
  }
  held_text_.erase(0, start);
  for (HeldToken& t : held_) t.text_end -= start;
  return !stopped;
}

absl::Status Generator::DropHeld() {
  // Held tokens sit right below any accepted drafts not handled yet: both go.
  const int32_t n = static_cast<int32_t>(held_.size()) + unprocessed_;
  unprocessed_ = 0;
  held_.clear();
  held_text_.clear();
  if (n == 0) return absl::OkStatus();
  return session_.DropLast(std::min(n, session_.n_past() - 1));
}

size_t Generator::FindStopString() const {
  size_t first = std::string::npos;
  for (const std::string& stop : options_.stop_strings) {
    first = std::min(first, held_text_.find(stop));
  }
  return first;
}

size_t Generator::HoldBackFrom() const {
  const std::string_view text = held_text_;
  size_t from = text.size();
  for (const std::string& stop : options_.stop_strings) {
    // Only a suffix shorter than the stop string can be a proper prefix of it.
    const size_t shortest_start = text.size() >= stop.size() ? text.size() - stop.size() + 1 : 0;
    for (size_t i = shortest_start; i < from; ++i) {
      if (std::string_view(stop).substr(0, text.size() - i) == text.substr(i)) {
        from = i;
        break;
      }
    }
  }
  return from;
}

}  // namespace ember
