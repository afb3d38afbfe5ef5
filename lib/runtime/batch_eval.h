// Batched evaluation of several sessions of one model in one forward pass: decode is
// memory-bound, so reading the weights once for k sessions' tokens costs about as much as
// for one (issue 14). Each session keeps its own KV cache, position and logits.
//
// Contract (the C API's ember_session_eval_batch):
//   - items: distinct sessions of one model, each with >= 1 token to evaluate at its own
//     current position. statuses.size() == items.size().
//   - All-or-nothing per session: statuses[i] is item i's outcome, with Session::Eval's
//     meaning (an item that fails leaves its session exactly as before); other items are
//     not affected by it.
//   - Batch invariance: every session's logits are bit-identical to evaluating its tokens
//     alone with Session::Eval, whatever else is in the batch.
//   - The return value is an error only for a malformed call (sizes differ, a null or
//     repeated session, sessions of different models); then no session was touched.
//   - Items of 1 .. kRowExactMaxTokens tokens (kernels/matmul.h) that are one plain step at
//     their session's position share one ForwardBatch (lib/model/forward.h); any other item
//     (a long prompt, a context shift, rows to recompute, an error) runs Session::Eval on its
//     own within the call. The pass runs on the first session's thread pool and buffers.
//   - Every session is inside a Cancellation::CallScope for the whole call: cancelling one
//     session stops only its item.
#ifndef EMBER_RUNTIME_BATCH_EVAL_H_
#define EMBER_RUNTIME_BATCH_EVAL_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "lib/runtime/session.h"

namespace ember {

struct BatchItem {
  Session* session = nullptr;
  absl::Span<const int32_t> tokens;
};

absl::Status EvalBatch(absl::Span<const BatchItem> items, absl::Span<absl::Status> statuses);

}  // namespace ember

#endif  // EMBER_RUNTIME_BATCH_EVAL_H_
