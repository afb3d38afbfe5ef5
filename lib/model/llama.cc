#include "lib/model/llama.h"

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "lib/model/attention.h"
#include "lib/model/blocks.h"

namespace ember {

void LlamaLayer(const ModelConfig& c, const LayerWeights& w, int layer, const LayerRows& stack,
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
  // Row-wise work (norms, RoPE, SwiGLU, residual adds) is split over tokens in prefill; a
  // decode step keeps it on the calling thread.
  Parallel& rows = n_tokens > 1 ? par : SerialParallel();
  auto rms_norm = [&](const std::vector<float>& weight) {
    rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) RmsNorm(x + t * n_embd, weight.data(), n_embd, c.norm_eps, xb + t * n_embd);
    });
  };
  auto add_residual = [&] {
    rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
      AddInPlace(x + t0 * n_embd, xb2 + t0 * n_embd, (t1 - t0) * n_embd);
    });
  };

  // Attention.
  rms_norm(w.attn_norm.weight);
  MatMulRows(stack, w.wq, xb, q, par);
  MatMulRows(stack, w.wk, xb, k, par);
  MatMulRows(stack, w.wv, xb, buf->v.data(), par);
  rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* cos = buf->rope_cos.data() + t * half;
      const float* sin = buf->rope_sin.data() + t * half;
      RopeInterleaved(q + t * q_dim, c.n_head, c.head_dim, c.n_rot, cos, sin);
      RopeInterleaved(k + t * kv_dim, c.n_head_kv, c.head_dim, c.n_rot, cos, sin);
    }
  });
  StoreKv(k, buf->v.data(), stack, layer);
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, c.sliding_window};
  SegmentAttention(q, stack, layer, shape, buf->att.data(), par);
  MatMulRows(stack, w.wo, buf->att.data(), xb2, par);
  add_residual();

  // SwiGLU MLP.
  rms_norm(w.ffn_norm.weight);
  MatMulRows(stack, w.w_gate, xb, buf->hb.data(), par);
  MatMulRows(stack, w.w_up, xb, buf->hb2.data(), par);
  rows.For(n_tokens, [&](int64_t t0, int64_t t1) {
    SwiGlu(buf->hb.data() + t0 * c.n_ff, buf->hb2.data() + t0 * c.n_ff, (t1 - t0) * c.n_ff);
  });
  MatMulRows(stack, w.w_down, buf->hb.data(), xb2, par);
  add_residual();
}

}  // namespace ember
