#include "lib/runtime/batch_eval.h"

#include "absl/container/flat_hash_set.h"
#include "lib/base/errors.h"

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
  // TODO(batch): one forward pass over all items (issue 14). Until then each session is
  // evaluated on its own, which already gives the contract's semantics.
  for (size_t i = 0; i < items.size(); ++i) {
    statuses[i] = items[i].session->Eval(items[i].tokens, nullptr);
  }
  return absl::OkStatus();
}

}  // namespace ember
