// AVX-512 VNNI prefill for Q8_0 / Q4_0 weights: rows are repacked per call into 32-row
// panels with rows in vector lanes, then a 32-row x 6-token register tile runs over them.
// Only the AVX-512 translation units include this.
#ifndef EMBER_KERNELS_AVX512_INT8_PANEL_GEMM_H_
#define EMBER_KERNELS_AVX512_INT8_PANEL_GEMM_H_

#include <cstdint>

#include "kernels/kernel_table.h"

namespace ember {
namespace avx512 {

// Below this many tokens the per-call repacking costs more than it saves.
inline constexpr int64_t kPanelGemmMinTokens = 4;

// Same contract as a QuantRowsKernel; x.weight_offset must be 128 (Q8_0) / 8 (Q4_0).
void Q8_0PanelGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);
void Q4_0PanelGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);
// Q8_0 / Q4_0 in the load-time row-panel layout (kernels/row_panels.h); row_begin is a
// multiple of 16.
void RowPanelsGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);

}  // namespace avx512
}  // namespace ember

#endif  // EMBER_KERNELS_AVX512_INT8_PANEL_GEMM_H_
