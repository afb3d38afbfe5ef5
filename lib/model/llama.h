// One Llama / Mistral decoder layer (pre-norm, sequential residual):
//   h = x + o_proj(attention(rope(q), rope(k), v) of RMSNorm(x))
//   x = h + down(silu(gate(RMSNorm(h))) * up(RMSNorm(h)))
// Q/K are in GGUF's layout, so RoPE is interleaved; Mistral adds a sliding window.
#ifndef EMBER_MODEL_LLAMA_H_
#define EMBER_MODEL_LLAMA_H_

#include <cstdint>

#include "kernels/parallel.h"
#include "lib/model/forward.h"
#include "lib/model/weights.h"

namespace ember {

// Updates buf->x (the stack's rows) in place and stores the layer's K/V of each segment in
// its cache. buf->rope_cos/sin must hold the tables of the rows' positions.
void LlamaLayer(const ModelConfig& config, const LayerWeights& w, int layer, const LayerRows& stack,
                Parallel& par, ForwardBuffers* buf);

}  // namespace ember

#endif  // EMBER_MODEL_LLAMA_H_
