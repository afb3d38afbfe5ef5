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
// cache holds keys/values of every position it may see (including pos .. pos + t), in any
// of the cache's element types. out: [n_tokens][n_head * head_dim]. Scores are scaled by
// 1/sqrt(head_dim).
//
// Fused: each (token, head) streams its keys in blocks with an online softmax, so the only
// score buffer is one block; no n_tokens x n_ctx matrix exists. (head, token) pairs are
// spread over `par`'s threads head-major (cache reuse of a head's keys/values) with equal
// causal work per thread.
void CausalAttention(const float* q, int64_t n_tokens, int64_t pos, const KvRows& kv,
                     int layer, const AttentionShape& shape, float* out, Parallel& par);

}  // namespace ember

#endif  // EMBER_MODEL_ATTENTION_H_
