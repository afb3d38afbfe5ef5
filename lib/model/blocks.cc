#include "lib/model/blocks.h"

#include "kernels/attention_kernels.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace ember {

void EmbedTokens(const WeightMatrix& embd, absl::Span<const int32_t> tokens, float* x) {
  for (size_t t = 0; t < tokens.size(); ++t) DequantizeRow(embd, tokens[t], x + t * embd.cols);
}

void FillRopeTables(const ModelConfig& c, int64_t pos, int64_t n_tokens, ForwardBuffers* buf) {
  const int half = c.n_rot / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    RopeTable(pos + t, c.n_rot, c.rope_theta, buf->rope_cos.data() + t * half,
              buf->rope_sin.data() + t * half);
  }
}

void StoreKv(const float* k, const float* v, int64_t n_tokens, int64_t pos, int layer,
             const KvRows& kv) {
  const KvRowKernels& rows = KvRowKernelsFor(ActiveAttentionKernels(), kv.type);
  for (int64_t t = 0; t < n_tokens; ++t) {
    rows.store(k + t * kv.kv_dim, kv.kv_dim, kv.K(layer, pos + t));
    rows.store(v + t * kv.kv_dim, kv.kv_dim, kv.V(layer, pos + t));
  }
}

void OutputLogits(const ModelConfig& c, const ModelWeights& w, int64_t n_tokens,
                  bool all_logits, Parallel& par, ForwardBuffers* buf) {
  const int64_t first = all_logits ? 0 : n_tokens - 1;
  const int64_t n_out = n_tokens - first;
  for (int64_t t = first; t < n_tokens; ++t) {
    const float* x = buf->x.data() + t * c.n_embd;
    float* out = buf->xb.data() + (t - first) * c.n_embd;
    if (w.output_norm.bias.empty()) {
      RmsNorm(x, w.output_norm.weight.data(), c.n_embd, c.norm_eps, out);
    } else {
      LayerNorm(x, w.output_norm.weight.data(), w.output_norm.bias.data(), c.n_embd,
                c.norm_eps, out);
    }
  }
  MatMul(w.output, buf->xb.data(), n_out, buf->logits.data(), par);
  if (!w.output_bias.empty()) AddBiasRows(buf->logits.data(), w.output_bias.data(), n_out, c.n_vocab);
}

}  // namespace ember
