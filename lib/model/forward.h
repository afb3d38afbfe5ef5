// The transformer forward pass over a batch of tokens: what a Session calls to extend its
// KV cache and get logits. The KV storage itself belongs to the caller (lib/runtime); the
// forward pass only sees it through KvRows.
#ifndef EMBER_MODEL_FORWARD_H_
#define EMBER_MODEL_FORWARD_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "kernels/dtype.h"
#include "kernels/parallel.h"
#include "lib/model/model.h"

namespace ember {

// Keys and values of every layer. Position p of layer l lives in row p % capacity of
// k[l] / v[l] (a ring buffer when the model attends to a sliding window, plain rows
// otherwise); each row holds kv_dim = n_head_kv * head_dim values of element type `type`
// (kF32, or kF16 / kBF16 to halve memory and bandwidth; see kernels/attention_kernels.h).
struct KvRows {
  int64_t capacity = 0;
  int64_t kv_dim = 0;
  int64_t row_stride = 0;  // elements from one slot to the next; 0 means kv_dim
  DType type = DType::kF32;
  std::vector<void*> k, v;  // one pointer per layer

  int64_t stride() const { return row_stride > 0 ? row_stride : kv_dim; }
  int64_t row_elems(int64_t pos) const { return (pos % capacity) * stride(); }
  int64_t elem_bytes() const { return type == DType::kF32 ? 4 : 2; }
  void* K(int layer, int64_t pos) const {
    return static_cast<char*>(k[layer]) + row_elems(pos) * elem_bytes();
  }
  void* V(int layer, int64_t pos) const {
    return static_cast<char*>(v[layer]) + row_elems(pos) * elem_bytes();
  }
};

// Activations of one forward call, kept between calls so that decoding does not allocate.
struct ForwardBuffers {
  std::vector<float> x;     // [n][n_embd] residual stream
  std::vector<float> xb;    // [n][n_embd] normed input of a block
  std::vector<float> xb2;   // [n][n_embd] block output
  std::vector<float> q;     // [n][n_head * head_dim]
  std::vector<float> k, v;  // [n][n_head_kv * head_dim]
  std::vector<float> att;   // [n][n_head * head_dim] attention output
  std::vector<float> hb;    // [n][n_ff] MLP hidden
  std::vector<float> hb2;   // [n][n_ff] the gated MLP's up projection (Llama, Mistral; empty for Phi-2)
  std::vector<float> rope_cos, rope_sin;  // [n][n_rot / 2]
  std::vector<float> logits;  // [n or 1][n_vocab]

  // Grows every buffer for n tokens and n_logit_rows rows of logits. OutOfMemoryError if
  // that fails.
  absl::Status Reserve(const ModelConfig& config, int64_t n_tokens, int64_t n_logit_rows);
};

// One session's tokens among the stacked rows of a forward pass: Forward has one, a batched
// pass (ForwardBatch) one per session. Each segment has its own positions and KV cache.
struct ForwardSegment {
  int64_t first_row = 0;  // row of its first token in ForwardBuffers
  int64_t n_tokens = 0;
  int64_t pos = 0;        // position of its first token
  const KvRows* kv = nullptr;
};

// The rows a layer runs on. Row-wise steps (norms, biases, RoPE, activations, residuals)
// compute each row on its own and matmuls run once over all rows; KV writes and attention
// run per segment.
struct LayerRows {
  absl::Span<const ForwardSegment> segments;
  int64_t n_rows = 0;      // sum of the segments' n_tokens, rows [0, n_rows)
  // Matmuls must be row-exact for any row count (kernels/matmul.h): the rows come from
  // several sessions, whose results must not depend on each other.
  bool row_exact = false;
};

// Runs `tokens` at positions pos .. pos + n - 1: writes their keys/values into `kv` (which
// must already hold positions [max(0, pos - window + 1) or 0, pos)) and leaves logits in
// buf->logits: n rows if all_logits, else only the last token's row. Token ids must have
// been validated. With row_exact, every matmul is row-exact (MatMulRowExact), so the
// results do not depend on how a prompt is split into calls on any kernel. Returns
// CancelledError if *cancel becomes true (checked before every layer); the KV rows of
// positions >= pos are then partly written and must be ignored.
absl::Status Forward(const Model& model, absl::Span<const int32_t> tokens, int64_t pos,
                     const KvRows& kv, bool all_logits, bool row_exact, const std::atomic<bool>* cancel,
                     Parallel& par, ForwardBuffers* buf);

// One session's part of a batched forward pass.
struct BatchForwardItem {
  absl::Span<const int32_t> tokens;  // 1 .. kRowExactMaxTokens validated ids
  int64_t pos = 0;                   // position of tokens[0]; kv as Forward requires
  const KvRows* kv = nullptr;
  const std::atomic<bool>* cancel = nullptr;  // checked before every layer; may be null
};

// Forward for several sessions of one model at once: every weight matrix is read once for
// all items' rows (decode is memory-bound, so k sessions' steps cost little more than one),
// while RoPE, KV writes and attention stay per item. statuses[i] is OK with item i's
// last-token logits in row i of buf->logits, or CancelledError when its flag was set (the
// item then leaves the pass; its KV rows of positions >= pos are partly written and must be
// ignored, as with Forward).
//
// Batch invariance, by construction: each item's logits are bit-identical to Forward of its
// tokens alone. Its rows take the same row-wise steps and the same attention call as alone;
// the matmuls are row-exact, and Forward's own matmuls of at most kRowExactMaxTokens tokens
// are too (kernels/matmul.h), hence the limit on an item's tokens. Thread counts do not
// matter (row kernels and attention split work without changing any sum).
//
// Returns InvalidArgumentError (an item with 0 or too many tokens, or statuses of another
// size) or OutOfMemoryError (activations) before running anything; then statuses are unset.
absl::Status ForwardBatch(const Model& model, absl::Span<const BatchForwardItem> items,
                          Parallel& par, ForwardBuffers* buf, absl::Span<absl::Status> statuses);

}  // namespace ember

#endif  // EMBER_MODEL_FORWARD_H_
