// One Phi-2 decoder layer (parallel residual, one LayerNorm feeding both branches):
//   x = x + dense(attention(rope(q), rope(k), v) of LN(x)) + fc2(gelu_new(fc1(LN(x))))
// with biases everywhere and partial rotate-half (NEOX) RoPE on the first n_rot dims.
#ifndef EMBER_MODEL_PHI2_H_
#define EMBER_MODEL_PHI2_H_

#include <cstdint>

#include "kernels/parallel.h"
#include "lib/model/forward.h"
#include "lib/model/weights.h"

namespace ember {

// Updates buf->x (the stack's rows) in place and stores the layer's K/V of each segment in
// its cache. buf->rope_cos/sin must hold the tables of the rows' positions.
void Phi2Layer(const ModelConfig& config, const LayerWeights& w, int layer, const LayerRows& stack,
               Parallel& par, ForwardBuffers* buf);

}  // namespace ember

#endif  // EMBER_MODEL_PHI2_H_
