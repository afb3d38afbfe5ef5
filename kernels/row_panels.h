// A load-time layout for Q8_0, Q4_0 and K-quant weight matrices with rows in vector lanes,
// which the AVX-512 kernels read with plain loads: no shuffles, no gathers, no horizontal sums.
//
// In the file layout (blocks of one row after another) a 64-byte register holds 64 values
// of one row, so every 32-value block costs a convert-and-scale per row for one or two
// vpdpbusd. Here one 64-byte vector holds 4 consecutive values of 16 rows: a vpdpbusd
// against 4 broadcast activation bytes advances 16 rows at once, a block's 8 of them sum
// into one int32 accumulator, and one convert + scale per block finishes 16 rows.
//
// Rows are grouped into panels of 16 (the last one padded with zero rows, scale 0). Panel p
// is PanelStride bytes at data + p * PanelStride; with nb = cols / 32 blocks it holds
//   scales  nb x 16 fp16, block b's row r at [16 b + r], zero-padded to a multiple of 64 B;
//   quants  nb slices of PanelQuantBytes, 64-byte aligned, one per block:
//     Q8_0  8 vectors g: byte 4 r + k = u = w + 128 of the block's value 4 g + k in row r;
//     Q4_0  4 vectors v: byte 4 r + k is the file's qs[4 v + k] of row r, i.e. u = w + 8 of
//           value 4 v + k in its low nibble and of value 16 + 4 v + k in its high nibble.
// The bytes are the file's bytes rearranged (weights offset to unsigned, fp16 scales kept):
// the same numbers, the same size plus at most 15 padding rows and 63 bytes per panel.
//
// K-quants (Q4_K, Q5_K, Q6_K) keep their super-blocks whole and transpose them by dwords:
// with ns = cols / 256 super-blocks, panel p holds
//   head    Q6_K only: ns x 16 fp16 d, super-block s's row r at [16 s + r], zero-padded to a
//           multiple of 64 B (Q4_K / Q5_K: none);
//   slices  ns slices of PanelSliceBytes, 64-byte aligned, one per super-block: vector i
//           (64 B) holds dword i of the 16 rows' blocks, byte 4 r + k = block byte 4 i + k
//           of row r, for the block's first KQuantPanelDwords dwords (Q4_K: all 144 bytes,
//           d|dmin, scales, qs; Q5_K: all 176, d|dmin, scales, qh, qs; Q6_K: ql, qh and
//           scales, 208 bytes, its d being in the head).
// Every 4-byte group of a file block (4 quant bytes = 4 or 8 consecutive values' bits, 4
// scale bytes, a d|dmin pair) thus becomes a 16-row vector the kernels use as it is: the
// quant bytes of 16 rows feed vpdpbusd after a mask (Q4_K) or a few shifts (Q5_K, Q6_K),
// and the integer scales of 16 rows unpack to one lane each. Sizes equal the file's
// (Q6_K: plus at most 63 bytes per panel), and the numbers are the file's.
//
// Helpers here are `static inline` on purpose (see kernels/blocks.h): the ISA translation
// units include this header.
#ifndef EMBER_KERNELS_ROW_PANELS_H_
#define EMBER_KERNELS_ROW_PANELS_H_

#include <cstdint>

#include "kernels/matmul.h"

namespace ember {

inline constexpr int kRowPanelHeight = 16;

static inline int64_t PanelScaleBytes(int64_t n_blocks) { return (n_blocks * 32 + 63) / 64 * 64; }
static inline int64_t PanelQuantBytes(DType type) { return type == DType::kQ8_0 ? 512 : 256; }

static inline bool IsKQuantPanel(DType type) {
  return type == DType::kQ4_K || type == DType::kQ5_K || type == DType::kQ6_K;
}
// Dwords of a K-quant block transposed into a super-block slice (see above).
static inline int KQuantPanelDwords(DType type) {
  return type == DType::kQ4_K ? 144 / 4 : type == DType::kQ5_K ? 176 / 4 : 208 / 4;
}
// Bytes before the first slice: the fp16 block scales (Q8_0, Q4_0), the d of each
// super-block (Q6_K), nothing (Q4_K, Q5_K).
static inline int64_t PanelHeadBytes(DType type, int64_t cols) {
  if (type == DType::kQ4_K || type == DType::kQ5_K) return 0;
  if (type == DType::kQ6_K) return (cols / 256 * 32 + 63) / 64 * 64;
  return PanelScaleBytes(cols / 32);
}
// One slice per 32-value block (Q8_0, Q4_0) or per 256-value super-block (K-quants).
static inline int64_t PanelSliceBytes(DType type) {
  return IsKQuantPanel(type) ? 64 * KQuantPanelDwords(type) : PanelQuantBytes(type);
}
static inline int64_t PanelStride(DType type, int64_t cols) {
  const int64_t slices = IsKQuantPanel(type) ? cols / 256 : cols / 32;
  return PanelHeadBytes(type, cols) + slices * PanelSliceBytes(type);
}
static inline int64_t PanelCount(int64_t rows) { return (rows + kRowPanelHeight - 1) / kRowPanelHeight; }

// True for the types the layout exists for (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K).
bool RowPanelsSupported(DType type);

// Whether model loading should pack supported matrices into row panels: when the active
// ISA has kernels for them (AVX-512), unless EMBER_ROW_PANELS=0 (kept for side-by-side
// benchmarks of the two layouts). Other ISAs still run row-panel matrices, slowly (scalar).
bool RowPanelsPreferred();

// Bytes of `w` (rows x cols of a supported type) in the panel layout.
int64_t RowPanelsBytes(DType type, int64_t rows, int64_t cols);

// Writes `src` (WeightLayout::kRows, a supported type) into dst, which must hold
// RowPanelsBytes bytes and be 64-byte aligned, and returns the matrix viewing dst. Uses the
// active ISA's packer.
WeightMatrix PackRowPanels(const WeightMatrix& src, uint8_t* dst);

// Packs only panels [panel_begin, panel_end) (rows 16 * panel_begin ..) into the whole
// matrix's buffer dst: disjoint ranges may be packed by different threads.
void PackRowPanelRange(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst);

namespace scalar {
// The reference packer (a PanelPacker): panels [panel_begin, panel_end) of src into dst.
void PackRowPanels(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst);
}  // namespace scalar

// Writes row `row` of a panel-layout matrix back in the file's block layout
// (w.row_bytes bytes): the exact inverse of PackRowPanels.
void ReadPanelRow(const WeightMatrix& w, int64_t row, uint8_t* out);

}  // namespace ember

#endif  // EMBER_KERNELS_ROW_PANELS_H_
