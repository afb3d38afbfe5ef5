#include "lib/model/forward.h"

#include <cstring>
#include <new>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/model/blocks.h"
#include "lib/model/llama.h"
#include "lib/model/phi2.h"
#include "lib/model/weights.h"

namespace ember {

absl::Status ForwardBuffers::Reserve(const ModelConfig& c, int64_t n, int64_t n_logit_rows) {
  const int64_t q_dim = int64_t{c.n_head} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_head_kv} * c.head_dim;
  auto grow = [](std::vector<float>& v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size) v.resize(static_cast<size_t>(size));
  };
  try {
    grow(x, n * c.n_embd);
    grow(xb, n * c.n_embd);
    grow(xb2, n * c.n_embd);
    grow(q, n * q_dim);
    grow(k, n * kv_dim);
    grow(v, n * kv_dim);
    grow(att, n * q_dim);
    grow(hb, n * c.n_ff);
    // Phi-2's MLP has no gate: a second [n][n_ff] buffer would be 21 MB of resident
    // zeros at a 512-token batch (1.3% of the Q4_0 file, against the <= 10% RSS budget).
    if (c.arch != Architecture::kPhi2) grow(hb2, n * c.n_ff);
    grow(rope_cos, n * (c.n_rot / 2));
    grow(rope_sin, n * (c.n_rot / 2));
    grow(logits, n_logit_rows * c.n_vocab);
  } catch (const std::bad_alloc&) {
    return OutOfMemoryError(absl::StrCat("cannot allocate activations for a batch of ", n,
                                         " tokens"));
  }
  return absl::OkStatus();
}

namespace {

void RunLayer(const Model& model, int l, const LayerRows& stack, Parallel& par, ForwardBuffers* buf) {
  const ModelConfig& c = model.config();
  if (c.arch == Architecture::kPhi2) {
    Phi2Layer(c, model.weights().layers[l], l, stack, par, buf);
  } else {
    LlamaLayer(c, model.weights().layers[l], l, stack, par, buf);
  }
}

// Takes segment `s` out of a batched pass between layers. What one layer hands the next is
// the residual stream x and the RoPE tables, row by row: the rows after the segment move up
// and the later segments' first_row with them. No other row's numbers change (every step is
// row-wise or row-exact), so the rest of the batch is unaffected.
void DropSegment(const ModelConfig& c, size_t s, std::vector<ForwardSegment>* segments,
                 std::vector<size_t>* item_of, int64_t* n_rows, ForwardBuffers* buf) {
  const ForwardSegment gone = (*segments)[s];
  const int64_t half = c.n_rot / 2;
  const int64_t tail = *n_rows - (gone.first_row + gone.n_tokens);
  auto move_rows = [&](std::vector<float>& v, int64_t width) {
    std::memmove(v.data() + gone.first_row * width, v.data() + (gone.first_row + gone.n_tokens) * width,
                 sizeof(float) * static_cast<size_t>(tail * width));
  };
  move_rows(buf->x, c.n_embd);
  move_rows(buf->rope_cos, half);
  move_rows(buf->rope_sin, half);
  segments->erase(segments->begin() + static_cast<std::ptrdiff_t>(s));
  item_of->erase(item_of->begin() + static_cast<std::ptrdiff_t>(s));
  for (size_t i = s; i < segments->size(); ++i) (*segments)[i].first_row -= gone.n_tokens;
  *n_rows -= gone.n_tokens;
}

}  // namespace

absl::Status Forward(const Model& model, absl::Span<const int32_t> tokens, int64_t pos,
                     const KvRows& kv, bool all_logits, bool row_exact, const std::atomic<bool>* cancel,
                     Parallel& par, ForwardBuffers* buf) {
  const ModelConfig& c = model.config();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return absl::InvalidArgumentError("Forward: no tokens");
  EMBER_RETURN_IF_ERROR(buf->Reserve(c, n, all_logits ? n : 1));

  const ForwardSegment segment{0, n, pos, &kv};
  const LayerRows stack{absl::MakeConstSpan(&segment, 1), n, row_exact};
  EmbedTokens(model.weights().token_embd, tokens, buf->x.data());
  FillRopeTables(c, stack, buf);
  for (int l = 0; l < c.n_layer; ++l) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      return CancelledError(absl::StrCat("cancelled before layer ", l));
    }
    RunLayer(model, l, stack, par, buf);
  }
  OutputLogits(c, model.weights(), stack, all_logits, par, buf);
  return absl::OkStatus();
}

absl::Status ForwardBatch(const Model& model, absl::Span<const BatchForwardItem> items,
                          Parallel& par, ForwardBuffers* buf, absl::Span<absl::Status> statuses) {
  const ModelConfig& c = model.config();
  if (statuses.size() != items.size()) {
    return absl::InvalidArgumentError("ForwardBatch: one status per item is required");
  }
  int64_t n_rows = 0;
  for (const BatchForwardItem& item : items) {
    const int64_t n = static_cast<int64_t>(item.tokens.size());
    if (n == 0 || n > kRowExactMaxTokens) {
      return absl::InvalidArgumentError(absl::StrCat("ForwardBatch: an item has ", n,
                                                     " tokens; 1 to ", kRowExactMaxTokens, " allowed"));
    }
    n_rows += n;
  }
  if (items.empty()) return absl::OkStatus();
  EMBER_RETURN_IF_ERROR(buf->Reserve(c, n_rows, static_cast<int64_t>(items.size())));

  std::vector<ForwardSegment> segments;
  std::vector<size_t> item_of;  // segments[s] is items[item_of[s]]
  segments.reserve(items.size());
  item_of.reserve(items.size());
  int64_t row = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const int64_t n = static_cast<int64_t>(items[i].tokens.size());
    segments.push_back({row, n, items[i].pos, items[i].kv});
    item_of.push_back(i);
    EmbedTokens(model.weights().token_embd, items[i].tokens, buf->x.data() + row * c.n_embd);
    statuses[i] = absl::OkStatus();
    row += n;
  }
  FillRopeTables(c, LayerRows{segments, n_rows, true}, buf);
  for (int l = 0; l < c.n_layer; ++l) {
    for (size_t s = segments.size(); s-- > 0;) {
      const std::atomic<bool>* cancel = items[item_of[s]].cancel;
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        statuses[item_of[s]] = CancelledError(absl::StrCat("cancelled before layer ", l));
        DropSegment(c, s, &segments, &item_of, &n_rows, buf);
      }
    }
    if (segments.empty()) return absl::OkStatus();
    RunLayer(model, l, LayerRows{segments, n_rows, /*row_exact=*/true}, par, buf);
  }
  OutputLogits(c, model.weights(), LayerRows{segments, n_rows, true}, /*all_logits=*/false, par, buf);
  // Logits row s belongs to item item_of[s] >= s: moving from the last row down never
  // overwrites a row before it has moved.
  for (size_t s = segments.size(); s-- > 0;) {
    if (item_of[s] != s) {
      std::memcpy(buf->logits.data() + item_of[s] * c.n_vocab, buf->logits.data() + s * c.n_vocab,
                  sizeof(float) * static_cast<size_t>(c.n_vocab));
    }
  }
  return absl::OkStatus();
}

}  // namespace ember
