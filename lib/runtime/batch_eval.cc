// EvalBatch: the items that can be one decode-sized step at their session's position share
// one ForwardBatch (lib/model/forward.h), whose batch invariance comes by construction from
// row-exact matmuls. The rest (prompts longer than kRowExactMaxTokens or n_batch, a context
// to shift, KV rows to recompute, invalid ids, a full context) run Session::Eval on their
// own: that is both the exact semantics and, for prompt-sized work, no slower, since a long
// prompt is compute-bound and gains nothing from sharing weight reads.
#include "lib/runtime/batch_eval.h"

#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "lib/base/errors.h"
#include "lib/model/forward.h"

namespace ember {

absl::Status EvalBatch(absl::Span<const BatchItem> items, absl::Span<absl::Status> statuses) {
  if (statuses.size() != items.size()) {
    return absl::InvalidArgumentError("EvalBatch: one status per item is required");
  }
  absl::flat_hash_set<const Session*> seen;
  const Model* model = nullptr;
  for (const BatchItem& item : items) {
    if (item.session == nullptr) return absl::InvalidArgumentError("EvalBatch: null session");
    if (!seen.insert(item.session).second) {
      return absl::InvalidArgumentError("EvalBatch: a session appears twice in one batch");
    }
    if (model != nullptr && &item.session->model() != model) {
      return absl::InvalidArgumentError("EvalBatch: sessions of different models in one batch");
    }
    model = &item.session->model();
  }
  if (items.empty()) return absl::OkStatus();

  // Every session is in a call for the whole batch: its cancellation() stops its item only.
  std::vector<std::unique_ptr<Cancellation::CallScope>> calls;
  calls.reserve(items.size());
  for (const BatchItem& item : items) {
    calls.push_back(std::make_unique<Cancellation::CallScope>(item.session->cancellation()));
  }

  std::vector<size_t> joined;  // indices of the items in the shared pass
  std::vector<size_t> alone;
  for (size_t i = 0; i < items.size(); ++i) {
    absl::StatusOr<bool> prepared = items[i].session->PrepareBatchStep(items[i].tokens);
    if (!prepared.ok()) {
      statuses[i] = prepared.status();
    } else if (*prepared) {
      joined.push_back(i);
    } else {
      alone.push_back(i);
    }
  }

  if (!joined.empty()) {
    std::vector<BatchForwardItem> forward(joined.size());
    for (size_t j = 0; j < joined.size(); ++j) {
      Session& s = *items[joined[j]].session;
      forward[j] = {items[joined[j]].tokens, s.n_past(), &s.kv_rows(), s.cancellation().flag()};
    }
    // The first session's thread pool and buffers serve the whole pass: its owner has handed
    // all the sessions to this call, so that pool is idle, and one pool keeps the thread
    // count the host chose for it instead of waking every session's threads. Results do not
    // depend on the thread count (lib/model/forward.h), so any session's pool would do.
    Session& host = *items.front().session;
    ForwardBuffers* buf = host.forward_buffers();
    std::vector<absl::Status> results(joined.size());
    const absl::Status pass = ForwardBatch(*model, forward, host.parallel(), buf, absl::MakeSpan(results));
    const int64_t n_vocab = model->config().n_vocab;
    for (size_t j = 0; j < joined.size(); ++j) {
      const size_t i = joined[j];
      statuses[i] = pass.ok() ? results[j] : pass;
      if (statuses[i].ok()) {
        items[i].session->CommitBatchStep(
            items[i].tokens, absl::MakeConstSpan(buf->logits.data() + static_cast<int64_t>(j) * n_vocab,
                                                 static_cast<size_t>(n_vocab)));
      }
    }
  }
  for (const size_t i : alone) {
    Session& s = *items[i].session;
    statuses[i] = s.Eval(items[i].tokens, nullptr, s.cancellation().flag());
  }
  return absl::OkStatus();
}

}  // namespace ember
