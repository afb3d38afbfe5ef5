#include "lib/model/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ops.h"

namespace ember {

void CausalAttention(const float* q, int64_t n_tokens, int64_t pos, const KvRows& kv,
                     int layer, const AttentionShape& shape, float* out, Parallel& par) {
  const int head_dim = shape.head_dim;
  const int group = shape.n_head / shape.n_head_kv;
  const int64_t q_dim = int64_t{shape.n_head} * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  par.For(n_tokens * shape.n_head, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / shape.n_head;
      const int h = static_cast<int>(task % shape.n_head);
      const int64_t p = pos + t;
      const int64_t first = shape.window > 0 ? std::max<int64_t>(0, p - shape.window + 1) : 0;
      const int64_t span = p - first + 1;
      const float* qh = q + t * q_dim + int64_t{h} * head_dim;
      const int64_t kv_offset = int64_t{h / group} * head_dim;
      scores.resize(static_cast<size_t>(span));
      for (int64_t j = 0; j < span; ++j) {
        scores[j] = Dot(qh, kv.K(layer, first + j) + kv_offset, head_dim) * scale;
      }
      Softmax(scores.data(), span);
      float* o = out + t * q_dim + int64_t{h} * head_dim;
      std::fill(o, o + head_dim, 0.0f);
      for (int64_t j = 0; j < span; ++j) {
        Axpy(scores[j], kv.V(layer, first + j) + kv_offset, o, head_dim);
      }
    }
  });
}

}  // namespace ember
