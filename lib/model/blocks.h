// Steps of the forward pass that every architecture shares: embedding lookup, RoPE tables,
// matmuls over the stacked rows, storing keys/values, attention per segment, and the output
// head.
#ifndef EMBER_MODEL_BLOCKS_H_
#define EMBER_MODEL_BLOCKS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "kernels/matmul.h"
#include "kernels/parallel.h"
#include "lib/model/attention.h"
#include "lib/model/forward.h"
#include "lib/model/weights.h"

namespace ember {

// x[t] = row tokens[t] of the embedding matrix, as float.
void EmbedTokens(const WeightMatrix& embd, absl::Span<const int32_t> tokens, float* x);

// buf->rope_cos/rope_sin[t] = the RoPE table of row t's position (n_rot / 2 entries each),
// for every row of every segment.
void FillRopeTables(const ModelConfig& config, const LayerRows& rows, ForwardBuffers* buf);

// y = w x over all rows: MatMul, or MatMulRowExact when the rows need it.
void MatMulRows(const LayerRows& rows, const WeightMatrix& w, const float* x, float* y, Parallel& par);

// Copies the (already rotated) k/v rows of each segment into its cache at its positions,
// converted to the cache's element type.
void StoreKv(const float* k, const float* v, const LayerRows& rows, int layer);

// Causal attention of each segment's queries over its own cache (CausalAttention per
// segment, exactly as a single session's pass calls it).
void SegmentAttention(const float* q, const LayerRows& rows, int layer, const AttentionShape& shape,
                      float* out, Parallel& par);

// Final norm and output projection into buf->logits: with all_logits the logits of every
// row (one segment), else those of each segment's last row, one logits row per segment.
// Uses LayerNorm when the final norm has a bias, RMSNorm otherwise.
void OutputLogits(const ModelConfig& config, const ModelWeights& w, const LayerRows& rows,
                  bool all_logits, Parallel& par, ForwardBuffers* buf);

}  // namespace ember

#endif  // EMBER_MODEL_BLOCKS_H_
