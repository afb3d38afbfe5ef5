#include "lib/model/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/attention_kernels.h"

namespace ember {
namespace {

// Keys per softmax block: its scores stay in L1 between the dot and the weighted sum.
constexpr int64_t kBlock = 128;
// Query rows attended together: each key and value row read serves all of them, which
// keeps prefill attention from re-streaming a head's keys and values from L2 per query.
constexpr int kQueries = 4;

// Up to kQueries query rows (q_stride apart; outputs out_stride apart) of one head, query i
// attending keys at positions [first[i], last[i]]. A running max `m` and sum `l` per query
// rescale its partial output whenever a block raises the max (online softmax), so each
// result equals softmax(scores) . V up to rounding. Keys outside a query's range get weight
// 0 in the blocks the group shares.
void AttendRows(const AttentionKernelTable& kt, const KvRowKernels& rk, const float* q,
                int64_t q_stride, int nq, const KvRows& kv, int layer, int64_t kv_offset,
                const int64_t* first, const int64_t* last, int head_dim, float scale, float* out,
                int64_t out_stride) {
  float scores[kQueries][kBlock];
  float m[kQueries], l[kQueries];
  int64_t lo = first[0], hi = last[0];
  for (int i = 0; i < nq; ++i) {
    m[i] = -INFINITY;
    l[i] = 0.0f;
    std::fill(out + i * out_stride, out + i * out_stride + head_dim, 0.0f);
    lo = std::min(lo, first[i]);
    hi = std::max(hi, last[i]);
  }
  const bool together = nq == kQueries && rk.dot4 != nullptr && rk.accumulate4 != nullptr;
  const int64_t stride = kv.stride();
  for (int64_t b = lo; b <= hi;) {
    // A block never crosses the ring's wrap, so its rows are contiguous.
    const int64_t to_wrap = kv.capacity - b % kv.capacity;
    const int64_t n = std::min({kBlock, hi - b + 1, to_wrap});
    const char* k = static_cast<const char*>(kv.K(layer, b)) + kv_offset * kv.elem_bytes();
    const char* v = static_cast<const char*>(kv.V(layer, b)) + kv_offset * kv.elem_bytes();
    if (together) {
      rk.dot4(q, q_stride, k, stride, n, head_dim, scale, scores[0], kBlock);
    } else {
      for (int i = 0; i < nq; ++i) rk.dot(q + i * q_stride, k, stride, n, head_dim, scale, scores[i]);
    }
    for (int i = 0; i < nq; ++i) {
      float* s = scores[i];
      // This query's keys in the block: [s0, s1).
      const int64_t s0 = std::clamp<int64_t>(first[i] - b, 0, n);
      const int64_t s1 = std::clamp<int64_t>(last[i] - b + 1, 0, n);
      if (s1 > s0) {
        const float block_max = *std::max_element(s + s0, s + s1);
        if (block_max > m[i]) {
          const float rescale = std::exp(m[i] - block_max);  // 0 on the first block
          if (l[i] > 0.0f) {
            float* o = out + i * out_stride;
            for (int d = 0; d < head_dim; ++d) o[d] *= rescale;
          }
          l[i] *= rescale;
          m[i] = block_max;
        }
        l[i] += kt.exp_sum(s + s0, s1 - s0, m[i]);
      }
      std::fill(s, s + std::max<int64_t>(s0, 0), 0.0f);
      std::fill(s + std::max(s1, s0), s + n, 0.0f);
    }
    if (together) {
      rk.accumulate4(scores[0], kBlock, v, stride, n, head_dim, out, out_stride);
    } else {
      for (int i = 0; i < nq; ++i) rk.accumulate(scores[i], v, stride, n, head_dim, out + i * out_stride);
    }
    b += n;
  }
  for (int i = 0; i < nq; ++i) {
    const float inv = 1.0f / l[i];
    for (int d = 0; d < head_dim; ++d) out[i * out_stride + d] *= inv;
  }
}

// Within a head, query groups are handed out as 0, n-1, 1, n-2, ...: with causal masking
// group g costs ~g, so any contiguous range of this order has about the average cost even
// when a thread's share ends inside a head.
int64_t BalancedGroup(int64_t k, int64_t n_groups) {
  return (k % 2 == 0) ? k / 2 : n_groups - 1 - k / 2;
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
  const int64_t n_groups = (n_tokens + kQueries - 1) / kQueries;
  par.For(n_groups * shape.n_head, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      // Head-major: a thread runs all queries of a head in a row, so that head's keys and
      // values (n_ctx x head_dim) are re-read from L2 instead of memory.
      const int h = static_cast<int>(task / n_groups);
      const int64_t t0 = BalancedGroup(task % n_groups, n_groups) * kQueries;
      const int nq = static_cast<int>(std::min<int64_t>(kQueries, n_tokens - t0));
      int64_t first[kQueries], last[kQueries];
      for (int i = 0; i < nq; ++i) {
        const int64_t p = pos + t0 + i;
        first[i] = shape.window > 0 ? std::max<int64_t>(0, p - shape.window + 1) : 0;
        last[i] = p;
      }
      const int64_t offset = t0 * q_dim + int64_t{h} * head_dim;
      AttendRows(kt, rk, q + offset, q_dim, nq, kv, layer, int64_t{h / group} * head_dim, first, last,
                 head_dim, scale, out + offset, q_dim);
    }
  });
}

}  // namespace ember
