// Causal multi-head attention of a batch of queries over the KV cache, with grouped-query
// heads and an optional sliding window.
#ifndef EMBER_MODEL_ATTENTION_H_
#define EMBER_MODEL_ATTENTION_H_

#include <cstdint>

#include "kernels/parallel.h"
#include "lib/model/forward.h"

namespace ember {

struct AttentionShape {
  int n_head = 0;
  int n_head_kv = 0;  // query head h reads kv head h / (n_head / n_head_kv)
  int head_dim = 0;
  int window = 0;     // > 0: query at position i sees keys j with i - window < j <= i
};

// q: [n_tokens][n_head * head_dim], already rotated; query t is at position pos + t and the
// cache holds keys/values of every position it may see (including pos .. pos + t).
// out: [n_tokens][n_head * head_dim]. Scores are scaled by 1/sqrt(head_dim). Work is split
// over (token, head) pairs; each query row needs a buffer of only its attended span.
void CausalAttention(const float* q, int64_t n_tokens, int64_t pos, const KvRows& kv,
                     int layer, const AttentionShape& shape, float* out, Parallel& par);

}  // namespace ember

#endif  // EMBER_MODEL_ATTENTION_H_
