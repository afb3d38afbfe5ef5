#include "lib/model/phi2.h"

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "lib/model/attention.h"
#include "lib/model/blocks.h"

namespace ember {

void Phi2Layer(const ModelConfig& c, const LayerWeights& w, int layer, const LayerRows& stack,
               Parallel& par, ForwardBuffers* buf) {
  const int64_t n_tokens = stack.n_rows;
  const int64_t n_embd = c.n_embd;
  const int64_t q_dim = int64_t{c.n_head} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_head_kv} * c.head_dim;
  const int half = c.n_rot / 2;
  float* x = buf->x.data();
  float* xb = buf->xb.data();
  float* q = buf->q.data();
  float* k = buf->k.data();
  float* xb2 = buf->xb2.data();
  float* hb = buf->hb.data();
  // Row-wise work (norms, biases, RoPE, GELU, residual adds) is split over tokens in
  // prefill; a decode step keeps it on the calling thread (one row: a pool round trip
  // would cost more than the work).
  Parallel& rows = n_tokens > 1 ? par : SerialParallel();

  rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      LayerNorm(x + t * n_embd, w.attn_norm.weight.data(), w.attn_norm.bias.data(), n_embd, c.norm_eps,
                xb + t * n_embd);
    }
  });

  // Attention branch.
  MatMulRows(stack, w.wq, xb, q, par);
  MatMulRows(stack, w.wk, xb, k, par);
  MatMulRows(stack, w.wv, xb, buf->v.data(), par);
  rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
    AddBiasRows(q + t0 * q_dim, w.bq.data(), t1 - t0, q_dim);
    AddBiasRows(k + t0 * kv_dim, w.bk.data(), t1 - t0, kv_dim);
    AddBiasRows(buf->v.data() + t0 * kv_dim, w.bv.data(), t1 - t0, kv_dim);
    for (int64_t t = t0; t < t1; ++t) {
      const float* cos = buf->rope_cos.data() + t * half;
      const float* sin = buf->rope_sin.data() + t * half;
      RopeNeox(q + t * q_dim, c.n_head, c.head_dim, c.n_rot, cos, sin);
      RopeNeox(k + t * kv_dim, c.n_head_kv, c.head_dim, c.n_rot, cos, sin);
    }
  });
  StoreKv(k, buf->v.data(), stack, layer);
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, c.sliding_window};
  SegmentAttention(q, stack, layer, shape, buf->att.data(), par);
  MatMulRows(stack, w.wo, buf->att.data(), xb2, par);
  rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
    AddBiasRows(xb2 + t0 * n_embd, w.bo.data(), t1 - t0, n_embd);
    AddInPlace(x + t0 * n_embd, xb2 + t0 * n_embd, (t1 - t0) * n_embd);
  });

  // MLP branch, from the same normed input (xb is still LN(x) of the layer input).
  MatMulRows(stack, w.w_up, xb, hb, par);
  rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
    AddBiasRows(hb + t0 * c.n_ff, w.b_up.data(), t1 - t0, c.n_ff);
    GeluNew(hb + t0 * c.n_ff, (t1 - t0) * c.n_ff);
  });
  MatMulRows(stack, w.w_down, hb, xb2, par);
  rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
    AddBiasRows(xb2 + t0 * n_embd, w.b_down.data(), t1 - t0, n_embd);
    AddInPlace(x + t0 * n_embd, xb2 + t0 * n_embd, (t1 - t0) * n_embd);
  });
}

}  // namespace ember
