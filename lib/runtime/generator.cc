#include "lib/runtime/generator.h"

#include <algorithm>

#include "lib/base/errors.h"
#include "lib/grammar/grammar_constraint.h"

namespace ember {

absl::Status ValidateGenerateOptions(const GenerateOptions& options) {
  if (options.max_tokens < 0) return absl::InvalidArgumentError("max_tokens < 0");
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

  Cancellation::CallScope call(session_.cancellation());
  session_.sampler().StartCompletion();  // penalties count this completion's tokens only
  if (grammar::GrammarConstraint* g = session_.grammar()) g->Reset();
  absl::Status status = Loop(ids, sink, result);
  if (!status.ok()) {
    // Generation ended on an error: what is held back is real text all the same. If the
    // sink stops during this, the rest is dropped; the error is what the caller learns.
    if (!Release(0, kAll, sink, result)) DropHeld().IgnoreError();
    if (absl::IsCancelled(status)) result->stop_reason = StopReason::kCancelled;
    if (absl::IsOutOfRange(status)) result->stop_reason = StopReason::kContextFull;
  }
  return status;
}

absl::Status Generator::Loop(absl::Span<const int32_t> prompt, TokenSink sink,
                             GenerateResult* result) {
  const std::atomic<bool>* cancel = session_.cancellation().flag();
  if (!prompt.empty()) EMBER_RETURN_IF_ERROR(session_.Eval(prompt, nullptr, cancel));
  const Model& model = session_.model();
  StopReason reason = StopReason::kMaxTokens;
  for (int32_t i = 0; i < options_.max_tokens; ++i) {
    if (session_.cancellation().requested()) return CancelledError("generation cancelled");
    EMBER_ASSIGN_OR_RETURN(const int32_t token, session_.Sample());
    if (std::find(options_.stop_tokens.begin(), options_.stop_tokens.end(), token) !=
        options_.stop_tokens.end()) {
      reason = StopReason::kStopToken;
      break;
    }
    if (!options_.ignore_eos && model.IsEndOfGeneration(token)) {
      reason = StopReason::kEndOfGeneration;
      break;
    }
    EMBER_RETURN_IF_ERROR(session_.Eval(absl::MakeConstSpan(&token, 1), nullptr, cancel));
    EMBER_RETURN_IF_ERROR(model.TokenText(token, /*skip_special=*/true, &piece_));
    text_.clear();
    utf8_.Push(piece_, &text_);
    bool stop = false;
    EMBER_RETURN_IF_ERROR(Emit(token, text_, sink, result, &stop));
    if (stop) return absl::OkStatus();
    if (const grammar::GrammarConstraint* g = session_.grammar(); g != nullptr && !g->CanContinue()) {
      // Complete is the only way to reach the end: the mask never leads into a dead end.
      reason = StopReason::kGrammarComplete;
      break;
    }
  }
  result->stop_reason = reason;
  if (!Release(0, kAll, sink, result)) {
    result->stop_reason = StopReason::kCallback;
    return DropHeld();
  }
  return absl::OkStatus();
}

absl::Status Generator::Emit(int32_t token, std::string_view text, TokenSink sink,
                             GenerateResult* result, bool* stop) {
  if (options_.stop_strings.empty()) {
    ++result->n_generated;
    if (sink(token, text)) {
      result->stop_reason = StopReason::kCallback;
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
    if (!Release(match, 0, sink, result)) {
      result->stop_reason = StopReason::kCallback;
      return DropHeld();
    }
    result->stop_reason = StopReason::kStopString;
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
  if (!Release(HoldBackFrom(), n_force, sink, result)) {
    result->stop_reason = StopReason::kCallback;
    *stop = true;
    return DropHeld();
  }
  return absl::OkStatus();
}

bool Generator::Release(size_t boundary, size_t n_force, TokenSink sink, GenerateResult* result) {
  size_t start = 0;
  bool stopped = false;
  for (size_t n = 0; !held_.empty() && !stopped; ++n) {
    const HeldToken& t = held_.front();
    // A token spilling into the character at `boundary` has bytes past it.
    const bool before = t.text_end < boundary || (t.text_end == boundary && !t.spills);
    if (n >= n_force && !before) break;
    ++result->n_generated;
    stopped = sink(t.id, std::string_view(held_text_).substr(start, t.text_end - start));
    start = t.text_end;
    held_.pop_front();
  }
  held_text_.erase(0, start);
  for (HeldToken& t : held_) t.text_end -= start;
  return !stopped;
}

absl::Status Generator::DropHeld() {
  const int32_t n = static_cast<int32_t>(held_.size());
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
