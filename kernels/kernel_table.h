// The per-ISA set of row kernels behind MatMul. kernels/matmul.cc splits the rows over
// threads and calls these on each thread's rows; kernels/dispatch.cc picks the table.
//
// A row kernel computes y[t * y_stride + r] for r in [row_begin, row_end) and every token t,
// blocking over tokens itself (prefill) or streaming rows (decode, n_tokens == 1).
//
// Row exactness (what batched decode of several sessions relies on, lib/model/forward.h):
// a row-exact kernel computes every (row, token) value with exactly the operations, in
// exactly the order, of its one-token call, so a token's outputs are bit-identical whatever
// other tokens share the call. Float kernels must always be row-exact (their tiles keep one
// accumulator per (row, token) and walk the columns in the same order for every tile shape).
#ifndef EMBER_KERNELS_KERNEL_TABLE_H_
#define EMBER_KERNELS_KERNEL_TABLE_H_

#include <cstdint>

#include "kernels/matmul.h"
#include "kernels/q8_activations.h"

namespace ember {

// Float weights (F32/F16/BF16) against float activations x[n_tokens][w.cols].
using FloatRowsKernel = void (*)(const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                                 const float* x, int64_t n_tokens, float* y, int64_t y_stride);
// Quantized weights against Q8 activations (int8 dot products).
using QuantRowsKernel = void (*)(const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                                 const Q8ActivationsView& x, float* y, int64_t y_stride);

struct QuantKernel {
  QuantRowsKernel rows = nullptr;
  int weight_offset = 0;  // what the kernel adds to weights to make them unsigned
  // A row-exact twin of `rows` (same weight_offset), for kernels whose `rows` switches to a
  // differently ordered prefill arithmetic above some token count. Null: `rows` itself is
  // row-exact for every n_tokens.
  QuantRowsKernel row_exact = nullptr;
};

// Writes panels [panel_begin, panel_end) of `src` (row layout) into the row-panel layout
// at dst (the whole matrix's buffer; kernels/row_panels.h).
using PanelPacker = void (*)(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst);

struct KernelTable {
  FloatRowsKernel f32 = nullptr;
  FloatRowsKernel f16 = nullptr;
  FloatRowsKernel bf16 = nullptr;
  QuantKernel q8_0, q4_0, q4_k, q5_k, q6_k;
  // WeightLayout::kRowPanels16 matrices (row_begin is a multiple of 16).
  QuantKernel q8_0_panels, q4_0_panels;
  PanelPacker pack_row_panels = nullptr;  // every RowPanelsSupported type
  QuantKernel q4_k_panels, q5_k_panels, q6_k_panels;
};

const KernelTable& ScalarKernels();  // kernels/scalar/
const KernelTable& Avx2Kernels();    // kernels/avx2/
const KernelTable& Avx512Kernels();  // kernels/avx512/
// aarch64: baseline NEON (kernels/neon/), and NEON with SDOT (kernels/neon_dotprod/).
const KernelTable& NeonKernels();
const KernelTable& NeonDotprodKernels();

}  // namespace ember

#endif  // EMBER_KERNELS_KERNEL_TABLE_H_
