#include "lib/model/phi2.h"

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "lib/model/attention.h"
#include "lib/model/blocks.h"

namespace ember {

void Phi2Layer(const ModelConfig& c, const LayerWeights& w, int layer, int64_t n_tokens,
               int64_t pos, const KvRows& kv, Parallel& par, ForwardBuffers* buf) {
  const int64_t n_embd = c.n_embd;
  const int64_t q_dim = int64_t{c.n_head} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_head_kv} * c.head_dim;
  const int half = c.n_rot / 2;
  float* x = buf->x.data();
  float* xb = buf->xb.data();

  for (int64_t t = 0; t < n_tokens; ++t) {
    LayerNorm(x + t * n_embd, w.attn_norm.weight.data(), w.attn_norm.bias.data(), n_embd,
              c.norm_eps, xb + t * n_embd);
  }

  // Attention branch.
  MatMul(w.wq, xb, n_tokens, buf->q.data(), par);
  MatMul(w.wk, xb, n_tokens, buf->k.data(), par);
  MatMul(w.wv, xb, n_tokens, buf->v.data(), par);
  AddBiasRows(buf->q.data(), w.bq.data(), n_tokens, q_dim);
  AddBiasRows(buf->k.data(), w.bk.data(), n_tokens, kv_dim);
  AddBiasRows(buf->v.data(), w.bv.data(), n_tokens, kv_dim);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* cos = buf->rope_cos.data() + t * half;
    const float* sin = buf->rope_sin.data() + t * half;
    RopeNeox(buf->q.data() + t * q_dim, c.n_head, c.head_dim, c.n_rot, cos, sin);
    RopeNeox(buf->k.data() + t * kv_dim, c.n_head_kv, c.head_dim, c.n_rot, cos, sin);
  }
  StoreKv(buf->k.data(), buf->v.data(), n_tokens, pos, layer, kv);
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, c.sliding_window};
  CausalAttention(buf->q.data(), n_tokens, pos, kv, layer, shape, buf->att.data(), par);
  MatMul(w.wo, buf->att.data(), n_tokens, buf->xb2.data(), par);
  AddBiasRows(buf->xb2.data(), w.bo.data(), n_tokens, n_embd);
  AddInPlace(x, buf->xb2.data(), n_tokens * n_embd);

  // MLP branch, from the same normed input (xb is still LN(x) of the layer input).
  MatMul(w.w_up, xb, n_tokens, buf->hb.data(), par);
  AddBiasRows(buf->hb.data(), w.b_up.data(), n_tokens, c.n_ff);
  GeluNew(buf->hb.data(), n_tokens * c.n_ff);
  MatMul(w.w_down, buf->hb.data(), n_tokens, buf->xb2.data(), par);
  AddBiasRows(buf->xb2.data(), w.b_down.data(), n_tokens, n_embd);
  AddInPlace(x, buf->xb2.data(), n_tokens * n_embd);
}

}  // namespace ember
