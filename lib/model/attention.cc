#include "lib/model/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/attention_kernels.h"

namespace ember {
namespace {

// Keys per softmax block: its scores stay in L1 between the dot and the weighted sum.
constexpr int64_t kBlock = 128;

// One query row against keys at positions [first, last]: a running max `m` and sum `l`
// rescale the partial output whenever a block raises the max (online softmax), so the
// result equals softmax(scores) . V up to rounding.
void AttendOneRow(const AttentionKernelTable& kt, const KvRowKernels& rk, const float* q,
                  const KvRows& kv, int layer, int64_t kv_offset, int64_t first, int64_t last,
                  int head_dim, float scale, float* out) {
  float scores[kBlock];
  float m = -INFINITY;
  float l = 0.0f;
  std::fill(out, out + head_dim, 0.0f);
  for (int64_t b = first; b <= last;) {
    // A block never crosses the ring's wrap, so its rows are contiguous.
    const int64_t to_wrap = kv.capacity - b % kv.capacity;
    const int64_t n = std::min({kBlock, last - b + 1, to_wrap});
    const char* k = static_cast<const char*>(kv.K(layer, b)) + kv_offset * kv.elem_bytes();
    const char* v = static_cast<const char*>(kv.V(layer, b)) + kv_offset * kv.elem_bytes();
    rk.dot(q, k, kv.stride(), n, head_dim, scale, scores);
    const float block_max = *std::max_element(scores, scores + n);
    if (block_max > m) {
      const float rescale = std::exp(m - block_max);  // 0 on the first block
      if (l > 0.0f) {
        for (int i = 0; i < head_dim; ++i) out[i] *= rescale;
      }
      l *= rescale;
      m = block_max;
    }
    l += kt.exp_sum(scores, n, m);
    rk.accumulate(scores, v, kv.stride(), n, head_dim, out);
    b += n;
  }
  const float inv = 1.0f / l;
  for (int i = 0; i < head_dim; ++i) out[i] *= inv;
}

// Within a head, query rows are handed out as 0, n-1, 1, n-2, ...: with causal masking row
// t costs ~t, so any contiguous range of this order has about the average cost even when a
// thread's share ends inside a head.
int64_t BalancedToken(int64_t k, int64_t n_tokens) {
  return (k % 2 == 0) ? k / 2 : n_tokens - 1 - k / 2;
}

}  // namespace

void CausalAttention(const float* q, int64_t n_tokens, int64_t pos, const KvRows& kv,
                     int layer, const AttentionShape& shape, float* out, Parallel& par) {
  const AttentionKernelTable& kt = ActiveAttentionKernels();
  const KvRowKernels& rk = KvRowKernelsFor(kt, kv.type);
  const int head_dim = shape.head_dim;
  const int group = shape.n_head / shape.n_head_kv;
  const int64_t q_dim = int64_t{shape.n_head} * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  par.For(n_tokens * shape.n_head, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      // Head-major: a thread runs all queries of a head in a row, so that head's keys and
      // values (n_ctx x head_dim) are re-read from L2 instead of memory.
      const int h = static_cast<int>(task / n_tokens);
      const int64_t t = BalancedToken(task % n_tokens, n_tokens);
      const int64_t p = pos + t;
      const int64_t first = shape.window > 0 ? std::max<int64_t>(0, p - shape.window + 1) : 0;
      const int64_t offset = t * q_dim + int64_t{h} * head_dim;
      AttendOneRow(kt, rk, q + offset, kv, layer, int64_t{h / group} * head_dim, first, p,
                   head_dim, scale, out + offset);
    }
  });
}

}  // namespace ember
