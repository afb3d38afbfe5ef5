// A 64-bit identity of what a model computes, so that a saved session state is only ever
// loaded into a model that would have produced it.
//
// Covers: the architecture and every hyper-parameter the forward pass reads (n_vocab,
// n_embd, n_layer, heads, head_dim, n_ff, n_rot, rope_theta, norm_eps, sliding_window);
// for every weight matrix its storage type, layout and shape plus the values of its first,
// middle and last rows (dequantized, so the same weights in another layout or type differ
// only through type/layout); every norm weight and bias vector in full.
// Not covered: the tokenizer (state holds ids, not text), n_ctx_train (the session's
// context is its own), and the other rows of each matrix, so two files differing only in
// untouched interior rows collide; that trade keeps the cost at load time to a few
// thousand values per matrix instead of reading gigabytes.
// Stable across processes and builds (FNV-1a over a fixed little-endian encoding).
#ifndef EMBER_MODEL_FINGERPRINT_H_
#define EMBER_MODEL_FINGERPRINT_H_

#include <cstdint>

#include "lib/model/config.h"
#include "lib/model/weights.h"

namespace ember {

uint64_t ComputeModelFingerprint(const ModelConfig& config, const ModelWeights& weights);

}  // namespace ember

#endif  // EMBER_MODEL_FINGERPRINT_H_
