// MatMul: splits output rows over threads and routes each share to the active ISA's row
// kernel. Quantized weights take the int8 path (activations quantized once per call) or,
// with QuantNumerics::kExact, are dequantized a few rows at a time and go through the
// float kernel.
#include "kernels/matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/q8_activation_buffer.h"
#include "kernels/row_panels.h"
#include "kernels/row_units.h"
#include "kernels/scalar/decode_row.h"
#include "kernels/tile_prefill.h"

namespace ember {
namespace {

const QuantKernel* QuantKernelFor(const KernelTable& k, const WeightMatrix& w) {
  if (w.layout == WeightLayout::kRowPanels16) {
    const QuantKernel* panels = nullptr;
    switch (w.type) {
      case DType::kQ8_0: panels = &k.q8_0_panels; break;
      case DType::kQ4_0: panels = &k.q4_0_panels; break;
      case DType::kQ4_K: panels = &k.q4_k_panels; break;
      case DType::kQ5_K: panels = &k.q5_k_panels; break;
      case DType::kQ6_K: panels = &k.q6_k_panels; break;
      default: return nullptr;
    }
    // A table without panel kernels (AVX2) borrows the scalar twins.
    if (panels->rows == nullptr && &k != &ScalarKernels()) return QuantKernelFor(ScalarKernels(), w);
    return panels;
  }
  switch (w.type) {
    case DType::kQ8_0: return &k.q8_0;
    case DType::kQ4_0: return &k.q4_0;
    case DType::kQ4_K: return &k.q4_k;
    case DType::kQ5_K: return &k.q5_k;
    case DType::kQ6_K: return &k.q6_k;
    default: return nullptr;
  }
}

FloatRowsKernel FloatKernelFor(const KernelTable& k, DType type) {
  switch (type) {
    case DType::kF32: return k.f32;
    case DType::kF16: return k.f16;
    case DType::kBF16: return k.bf16;
    default: return nullptr;
  }
}

// Exact numerics for quantized weights: dequantize a tile of rows to f32, run the float
// kernel on it.
void ExactQuantRows(const KernelTable& k, const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                    const float* x, int64_t n_tokens, float* y) {
  constexpr int64_t kTileRows = 16;
  thread_local std::vector<float> tile;
  tile.resize(static_cast<size_t>(kTileRows * w.cols));
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kTileRows) {
    const int64_t n = std::min(kTileRows, row_end - r0);
    for (int64_t i = 0; i < n; ++i) DequantizeRow(w, r0 + i, tile.data() + i * w.cols);
    const WeightMatrix f32{DType::kF32, n, w.cols, tile.data(), w.cols * 4};
    k.f32(f32, 0, n, x, n_tokens, y + r0, w.rows);
  }
}

}  // namespace

void DequantizeRow(const WeightMatrix& w, int64_t row, float* dst) {
  if (w.layout == WeightLayout::kRowPanels16) {
    thread_local std::vector<uint8_t> file_row;
    file_row.resize(static_cast<size_t>(w.row_bytes));
    ReadPanelRow(w, row, file_row.data());
    scalar::DequantizeRow(w.type, file_row.data(), w.cols, dst);
    return;
  }
  scalar::DequantizeRow(w.type, static_cast<const uint8_t*>(w.data) + row * w.row_bytes, w.cols, dst);
}

namespace {

void MatMulImpl(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par,
                bool row_exact) {
  if (w.rows <= 0 || n_tokens <= 0) return;
  const KernelTable& k = ActiveKernels();
  if (FloatRowsKernel f = FloatKernelFor(k, w.type)) {
    ForRowUnits(w.rows, par, [&](int64_t b, int64_t e) { f(w, b, e, x, n_tokens, y, w.rows); });
    return;
  }
  const QuantKernel* q = QuantKernelFor(k, w);
  if (q == nullptr) return;  // loaders reject unsupported types before any MatMul
  if (ActiveQuantNumerics() == QuantNumerics::kExact) {
    ForRowUnits(w.rows, par, [&](int64_t b, int64_t e) { ExactQuantRows(k, w, b, e, x, n_tokens, y); });
    return;
  }
  // Exact numerics above are row-exact as they are (dequantize, then the float kernel).
  // Prefill on the tile unit where there is one (x86-64: AMX, kernels/tile_prefill.h).
  if (!row_exact && TilePrefill(w, x, n_tokens, y, par)) return;
  thread_local Q8ActivationBuffer xq;
  xq.Quantize(x, n_tokens, w.cols, q->weight_offset, n_tokens > 1 ? par : SerialParallel());
  const Q8ActivationsView& view = xq.view();
  // Activations are quantized row by row with the same twin for any n_tokens, so only the
  // row kernel decides row exactness.
  const QuantRowsKernel rows = row_exact && q->row_exact != nullptr ? q->row_exact : q->rows;
  ForRowUnits(w.rows, par, [&](int64_t b, int64_t e) { rows(w, b, e, view, y, w.rows); });
}

}  // namespace

void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par) {
  MatMulImpl(w, x, n_tokens, y, par, n_tokens <= kRowExactMaxTokens);
}

void MatMulRowExact(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par) {
  MatMulImpl(w, x, n_tokens, y, par, /*row_exact=*/true);
}

}  // namespace ember
