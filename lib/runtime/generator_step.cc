#include "lib/runtime/generator_step.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "lib/runtime/batch_eval.h"

namespace ember {

absl::Status StepGenerators(absl::Span<const GeneratorStep> items, absl::Span<absl::Status> statuses) {
  if (statuses.size() != items.size()) {
    return absl::InvalidArgumentError("one status per generator is required");
  }
  absl::flat_hash_set<const Generator*> generators;
  absl::flat_hash_set<const Session*> sessions;
  const Model* model = nullptr;
  for (const GeneratorStep& item : items) {
    if (item.generator == nullptr) return absl::InvalidArgumentError("a generator is null");
    if (!generators.insert(item.generator).second) {
      return absl::InvalidArgumentError("a generator appears twice in one step");
    }
    const Session& session = item.generator->session();
    if (!sessions.insert(&session).second) {
      return absl::InvalidArgumentError("two generators of one session in one step");
    }
    if (model != nullptr && &session.model() != model) {
      return absl::InvalidArgumentError("generators of different models in one step");
    }
    model = &session.model();
  }

  // (a) Sample and decide; collect the tokens to evaluate.
  std::vector<BatchItem> batch;
  std::vector<size_t> owner;  // batch index -> item index
  std::vector<int32_t> tokens(items.size(), -1);
  batch.reserve(items.size());
  owner.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    tokens[i] = items[i].generator->Next(items[i].sink);
    if (tokens[i] < 0) continue;
    batch.push_back({&items[i].generator->session(), absl::MakeConstSpan(&tokens[i], 1)});
    owner.push_back(i);
  }
  // (b) One batched evaluation of every continuing generation's token.
  std::vector<absl::Status> evals(batch.size());
  if (!batch.empty()) {
    const absl::Status malformed = EvalBatch(batch, absl::MakeSpan(evals));
    // The checks above make the batch well-formed; if EvalBatch disagrees, every token
    // counts as not evaluated.
    if (!malformed.ok()) {
      for (absl::Status& e : evals) e = absl::InternalError(malformed.message());
    }
  }
  for (size_t b = 0; b < batch.size(); ++b) {
    items[owner[b]].generator->Evaluated(evals[b], items[owner[b]].sink);
  }
  for (size_t i = 0; i < items.size(); ++i) statuses[i] = items[i].generator->status();
  return absl::OkStatus();
}

}  // namespace ember
