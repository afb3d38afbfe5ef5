// AVX-512 VNNI kernels for matrices in the load-time row-panel layout
// (kernels/row_panels.h): the decode / small-batch matmul and the load-time packer.
// Only the AVX-512 translation units include this.
#ifndef EMBER_KERNELS_AVX512_ROW_PANEL_KERNELS_H_
#define EMBER_KERNELS_AVX512_ROW_PANEL_KERNELS_H_

#include <cstdint>

#include "kernels/kernel_table.h"

namespace ember {
namespace avx512 {

// QuantRowsKernels for row-panel matrices, row-exact for every token count (each token gets
// the one-token arithmetic, kernels/kernel_table.h): up to 8 tokens stream the panels, more
// go to RowPanelsGemm. x.weight_offset must be 128 (Q8_0) / 8 (Q4_0).
void Q8_0RowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);
void Q4_0RowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);

// K-quants (kquant_panel_kernels.cc), row-exact likewise: up to 8 tokens stream the panels
// in groups of up to 3, more unpack 32 rows at a time for a token-tiled GEMM.
// x.weight_offset must be 0 (Q4_K, Q5_K) / 32 (Q6_K).
void Q4_KRowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);
void Q5_KRowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);
void Q6_KRowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride);

// PanelPacker: bit-identical to scalar::PackRowPanels (K-quants go to PackKQuantRowPanels).
void PackRowPanels(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst);
void PackKQuantRowPanels(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst);

}  // namespace avx512
}  // namespace ember

#endif  // EMBER_KERNELS_AVX512_ROW_PANEL_KERNELS_H_
