#include "lib/model/blocks.h"

#include "kernels/attention_kernels.h"
#include "kernels/ops.h"

namespace ember {

void EmbedTokens(const WeightMatrix& embd, absl::Span<const int32_t> tokens, float* x) {
  for (size_t t = 0; t < tokens.size(); ++t) DequantizeRow(embd, tokens[t], x + t * embd.cols);
}

void FillRopeTables(const ModelConfig& c, const LayerRows& rows, ForwardBuffers* buf) {
  const int half = c.n_rot / 2;
  for (const ForwardSegment& s : rows.segments) {
    for (int64_t i = 0; i < s.n_tokens; ++i) {
      const int64_t t = s.first_row + i;
      RopeTable(s.pos + i, c.n_rot, c.rope_theta, buf->rope_cos.data() + t * half,
                buf->rope_sin.data() + t * half);
    }
  }
}

void MatMulRows(const LayerRows& rows, const WeightMatrix& w, const float* x, float* y, Parallel& par) {
  if (rows.row_exact) {
    MatMulRowExact(w, x, rows.n_rows, y, par);
  } else {
    MatMul(w, x, rows.n_rows, y, par);
  }
}

void StoreKv(const float* k, const float* v, const LayerRows& rows, int layer) {
  for (const ForwardSegment& s : rows.segments) {
    const KvRows& kv = *s.kv;
    const KvRowKernels& kernels = KvRowKernelsFor(ActiveAttentionKernels(), kv.type);
    for (int64_t i = 0; i < s.n_tokens; ++i) {
      const int64_t t = s.first_row + i;
      kernels.store(k + t * kv.kv_dim, kv.kv_dim, kv.K(layer, s.pos + i));
      kernels.store(v + t * kv.kv_dim, kv.kv_dim, kv.V(layer, s.pos + i));
    }
  }
}

void SegmentAttention(const float* q, const LayerRows& rows, int layer, const AttentionShape& shape,
                      float* out, Parallel& par) {
  const int64_t q_dim = int64_t{shape.n_head} * shape.head_dim;
  auto attend = [&](const ForwardSegment& s, Parallel& p) {
    CausalAttention(q + s.first_row * q_dim, s.n_tokens, s.pos, *s.kv, layer, shape,
                    out + s.first_row * q_dim, p);
  };
  const int64_t n_segments = static_cast<int64_t>(rows.segments.size());
  if (n_segments < par.n_threads()) {
    for (const ForwardSegment& s : rows.segments) attend(s, par);
    return;
  }
  // Enough segments to share out whole: one pool round trip per layer instead of one per
  // segment (a decode step's attention is small). How (head, query) tasks are split over
  // threads never changes their results.
  par.For(n_segments, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) attend(rows.segments[static_cast<size_t>(i)], SerialParallel());
  });
}

void OutputLogits(const ModelConfig& c, const ModelWeights& w, const LayerRows& rows,
                  bool all_logits, Parallel& par, ForwardBuffers* buf) {
  // Output row i normalizes row `wanted(i)`: every row, or each segment's last.
  const int64_t n_out = all_logits ? rows.n_rows : static_cast<int64_t>(rows.segments.size());
  auto wanted = [&](int64_t i) {
    if (all_logits) return i;
    const ForwardSegment& s = rows.segments[static_cast<size_t>(i)];
    return s.first_row + s.n_tokens - 1;
  };
  for (int64_t i = 0; i < n_out; ++i) {
    const float* x = buf->x.data() + wanted(i) * c.n_embd;
    float* out = buf->xb.data() + i * c.n_embd;
    if (w.output_norm.bias.empty()) {
      RmsNorm(x, w.output_norm.weight.data(), c.n_embd, c.norm_eps, out);
    } else {
      LayerNorm(x, w.output_norm.weight.data(), w.output_norm.bias.data(), c.n_embd,
                c.norm_eps, out);
    }
  }
  const LayerRows out_rows{rows.segments, n_out, rows.row_exact};
  MatMulRows(out_rows, w.output, buf->xb.data(), buf->logits.data(), par);
  if (!w.output_bias.empty()) AddBiasRows(buf->logits.data(), w.output_bias.data(), n_out, c.n_vocab);
}

}  // namespace ember
