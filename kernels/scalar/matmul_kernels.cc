// Scalar twins of the SIMD row kernels: the same arithmetic, one value at a time. They run
// on machines without AVX2 and are what tests compare every SIMD path against.
#include <cstring>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/row_panels.h"
#include "kernels/scalar/decode_row.h"

namespace ember {
namespace {

const uint8_t* RowPtr(const WeightMatrix& w, int64_t r) {
  return static_cast<const uint8_t*>(w.data) + r * w.row_bytes;
}

void FloatRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
               int64_t n_tokens, float* y, int64_t y_stride) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = row_begin; r < row_end; ++r) {
    scalar::DequantizeRow(w.type, RowPtr(w, r), w.cols, row.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + t * w.cols;
      float acc = 0.0f;
      for (int64_t c = 0; c < w.cols; ++c) acc += row[c] * xt[c];
      y[t * y_stride + r] = acc;
    }
  }
}

// The int8 scheme: per 32-value block b, integer sums I of weight values times activation
// q (per 16-value half when the weight scale is per 16), scaled by weight scale * d_x;
// K-quant mins contribute -min * d_x * sum(q).
// Row-panel matrices (kernels/row_panels.h) are read back into the file layout row by row
// and then take exactly the same arithmetic.
template <bool kScalePer16>
void QuantRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end,
               const Q8ActivationsView& x, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 32;
  std::vector<int8_t> vals(static_cast<size_t>(w.cols));
  std::vector<float> scale16(static_cast<size_t>(2 * nb)), min32(static_cast<size_t>(nb));
  std::vector<uint8_t> file_row(w.layout == WeightLayout::kRowPanels16 ? static_cast<size_t>(w.row_bytes) : 0);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* src = RowPtr(w, r);
    if (w.layout == WeightLayout::kRowPanels16) {
      ReadPanelRow(w, r, file_row.data());
      src = file_row.data();
    }
    scalar::DecodeQuantRow(w.type, src, w.cols, vals.data(), scale16.data(), min32.data());
    for (int64_t t = 0; t < x.n_tokens; ++t) {
      const int8_t* q = x.q + t * x.cols;
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        int32_t sum[2] = {0, 0};
        for (int i = 0; i < 32; ++i) sum[i / 16] += vals[32 * b + i] * q[32 * b + i];
        const float dx = x.d[t * nb + b];
        if (kScalePer16) {
          acc += scale16[2 * b] * dx * static_cast<float>(sum[0]);
          acc += scale16[2 * b + 1] * dx * static_cast<float>(sum[1]);
        } else {
          acc += scale16[2 * b] * dx * static_cast<float>(sum[0] + sum[1]);
        }
        acc -= min32[b] * x.dsum[t * nb + b];
      }
      y[t * y_stride + r] = acc;
    }
  }
}

}  // namespace

// Every kernel here computes each (row, token) with one loop whatever n_tokens is: all are
// row-exact (kernels/kernel_table.h) and need no row_exact twins.
const KernelTable& ScalarKernels() {
  static const KernelTable table = [] {
    KernelTable k;
    k.f32 = k.f16 = k.bf16 = FloatRows;
    k.q8_0 = {QuantRows<false>, 0};
    k.q4_0 = {QuantRows<false>, 0};
    k.q4_k = {QuantRows<false>, 0};
    k.q5_k = {QuantRows<false>, 0};
    k.q6_k = {QuantRows<true>, 0};
    k.q8_0_panels = k.q4_0_panels = k.q4_k_panels = k.q5_k_panels = {QuantRows<false>, 0};
    k.q6_k_panels = {QuantRows<true>, 0};
    k.pack_row_panels = scalar::PackRowPanels;
    return k;
  }();
  return table;
}

}  // namespace ember
