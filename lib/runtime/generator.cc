#include "lib/runtime/generator.h"

#include <vector>

#include "lib/base/errors.h"

namespace ember {

absl::Status Generator::Run(std::string_view prompt, EncodeOptions encode, TokenSink sink,
                            GenerateResult* result) {
  *result = GenerateResult();
  if (options_.max_tokens < 0) return absl::InvalidArgumentError("max_tokens < 0");
  // BOS only starts a sequence: a continuation must not insert one mid-context.
  if (session_.n_past() > 0) encode.add_bos = false;
  std::vector<int32_t> ids;
  EMBER_RETURN_IF_ERROR(session_.model().tokenizer().Encode(prompt, encode, &ids));
  if (ids.empty() && !session_.has_logits()) {
    return absl::InvalidArgumentError("empty prompt on an empty session");
  }

  Cancellation::CallScope call(session_.cancellation());
  absl::Status status = Loop(ids, sink, result);
  if (absl::IsCancelled(status)) result->stop_reason = StopReason::kCancelled;
  if (absl::IsOutOfRange(status)) result->stop_reason = StopReason::kContextFull;
  return status;
}

absl::Status Generator::Loop(absl::Span<const int32_t> prompt, TokenSink sink,
                             GenerateResult* result) {
  const std::atomic<bool>* cancel = session_.cancellation().flag();
  if (!prompt.empty()) EMBER_RETURN_IF_ERROR(session_.Eval(prompt, nullptr, cancel));
  const Model& model = session_.model();
  const int32_t eos = model.tokenizer().eos();
  for (int32_t i = 0; i < options_.max_tokens; ++i) {
    if (session_.cancellation().requested()) return CancelledError("generation cancelled");
    EMBER_ASSIGN_OR_RETURN(const int32_t token, session_.Sample());
    if (token == eos && !options_.ignore_eos) {
      result->stop_reason = StopReason::kEndOfGeneration;
      return absl::OkStatus();
    }
    EMBER_RETURN_IF_ERROR(session_.Eval(absl::MakeConstSpan(&token, 1), nullptr, cancel));
    result->n_generated = i + 1;
    EMBER_RETURN_IF_ERROR(model.TokenText(token, /*skip_special=*/true, &piece_));
    text_.clear();
    utf8_.Push(piece_, &text_);
    if (sink(token, text_)) {
      result->stop_reason = StopReason::kCallback;
      return absl::OkStatus();
    }
  }
  result->stop_reason = StopReason::kMaxTokens;
  return absl::OkStatus();
}

}  // namespace ember
