// Steps of the forward pass that every architecture shares: embedding lookup, RoPE tables,
// storing keys/values, and the output head.
#ifndef EMBER_MODEL_BLOCKS_H_
#define EMBER_MODEL_BLOCKS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "kernels/parallel.h"
#include "lib/model/forward.h"
#include "lib/model/weights.h"

namespace ember {

// x[t] = row tokens[t] of the embedding matrix, as float.
void EmbedTokens(const WeightMatrix& embd, absl::Span<const int32_t> tokens, float* x);

// buf->rope_cos/rope_sin[t] = the RoPE table of position pos + t (n_rot / 2 entries each).
void FillRopeTables(const ModelConfig& config, int64_t pos, int64_t n_tokens,
                    ForwardBuffers* buf);

// Copies the (already rotated) k/v rows of n_tokens tokens into the cache at positions
// pos .. pos + n_tokens - 1, converted to the cache's element type.
void StoreKv(const float* k, const float* v, int64_t n_tokens, int64_t pos, int layer,
             const KvRows& kv);

// Final norm and output projection: logits of every token (all_logits) or of the last one
// into buf->logits. Uses LayerNorm when the final norm has a bias, RMSNorm otherwise.
void OutputLogits(const ModelConfig& config, const ModelWeights& w, int64_t n_tokens,
                  bool all_logits, Parallel& par, ForwardBuffers* buf);

}  // namespace ember

#endif  // EMBER_MODEL_BLOCKS_H_
