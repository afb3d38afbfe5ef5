#include "kernels/row_panels.h"

#include <cstdlib>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/kernel_table.h"

namespace ember {
namespace {

// Where value i (0..31) of a block of row r (0..15) sits in its quant slice, and for Q4_0
// which nibble (0 low, 4 high).
struct ValueSlot {
  int64_t byte;
  int shift;
};

ValueSlot SlotQ8_0(int r, int i) { return {64 * (i / 4) + 4 * r + i % 4, 0}; }
ValueSlot SlotQ4_0(int r, int i) { return {64 * (i % 16 / 4) + 4 * r + i % 4, i / 16 * 4}; }

// K-quants: where byte j of a super-block of row r sits in the panel, relative to the
// panel start (the slice of super-block s, or the head for Q6_K's d).
int64_t KQuantByte(DType type, int64_t cols, int64_t s, int r, int j) {
  const int dwords = KQuantPanelDwords(type);
  if (j >= 4 * dwords) return 2 * (16 * s + r) + (j - 4 * dwords);  // Q6_K d, in the head
  return PanelHeadBytes(type, cols) + s * PanelSliceBytes(type) + 64 * (j / 4) + 4 * r + j % 4;
}

}  // namespace

bool RowPanelsSupported(DType type) {
  return type == DType::kQ8_0 || type == DType::kQ4_0 || IsKQuantPanel(type);
}

bool RowPanelsPreferred() {
  const char* env = std::getenv("EMBER_ROW_PANELS");
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  return ActiveIsa() == Isa::kAvx512;
}

int64_t RowPanelsBytes(DType type, int64_t rows, int64_t cols) {
  return PanelCount(rows) * PanelStride(type, cols);
}

void PackRowPanelRange(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst) {
  const KernelTable& k = ActiveKernels();
  const PanelPacker pack = k.pack_row_panels != nullptr ? k.pack_row_panels : scalar::PackRowPanels;
  pack(src, panel_begin, panel_end, dst);
}

WeightMatrix PackRowPanels(const WeightMatrix& src, uint8_t* dst) {
  PackRowPanelRange(src, 0, PanelCount(src.rows), dst);
  WeightMatrix out = src;
  out.data = dst;
  out.layout = WeightLayout::kRowPanels16;
  return out;
}

void scalar::PackRowPanels(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst) {
  const int64_t nb = src.cols / 32, stride = PanelStride(src.type, src.cols);
  const int64_t quant_bytes = PanelQuantBytes(src.type);
  const bool q8 = src.type == DType::kQ8_0;
  std::memset(dst + panel_begin * stride, 0, static_cast<size_t>((panel_end - panel_begin) * stride));
  const int64_t row_end = panel_end * kRowPanelHeight < src.rows ? panel_end * kRowPanelHeight : src.rows;
  for (int64_t row = panel_begin * kRowPanelHeight; row < row_end; ++row) {
    uint8_t* panel = dst + (row / kRowPanelHeight) * stride;
    if (IsKQuantPanel(src.type)) {
      const int64_t block_bytes = Traits(src.type).block_bytes, ns = src.cols / 256;
      const uint8_t* in = static_cast<const uint8_t*>(src.data) + row * src.row_bytes;
      const int r = static_cast<int>(row % kRowPanelHeight);
      for (int64_t s = 0; s < ns; ++s) {
        for (int j = 0; j < block_bytes; ++j) panel[KQuantByte(src.type, src.cols, s, r, j)] = in[s * block_bytes + j];
      }
      continue;
    }
    uint8_t* quants = panel + PanelScaleBytes(nb);
    const int r = static_cast<int>(row % kRowPanelHeight);
    const uint8_t* in = static_cast<const uint8_t*>(src.data) + row * src.row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* slice = quants + b * quant_bytes;
      if (q8) {
        BlockQ8_0 blk;
        std::memcpy(&blk, in + b * sizeof(BlockQ8_0), sizeof(blk));
        std::memcpy(panel + 2 * (16 * b + r), &blk.d, 2);
        for (int i = 0; i < 32; ++i) slice[SlotQ8_0(r, i).byte] = static_cast<uint8_t>(blk.qs[i] + 128);
      } else {
        BlockQ4_0 blk;
        std::memcpy(&blk, in + b * sizeof(BlockQ4_0), sizeof(blk));
        std::memcpy(panel + 2 * (16 * b + r), &blk.d, 2);
        for (int i = 0; i < 32; ++i) {
          // File: value j < 16 is qs[j]'s low nibble, value j + 16 its high nibble.
          const int u = i < 16 ? blk.qs[i] & 0x0F : blk.qs[i - 16] >> 4;
          const ValueSlot s = SlotQ4_0(r, i);
          slice[s.byte] = static_cast<uint8_t>(slice[s.byte] | (u << s.shift));
        }
      }
    }
  }
}

void ReadPanelRow(const WeightMatrix& w, int64_t row, uint8_t* out) {
  const int64_t nb = w.cols / 32, stride = PanelStride(w.type, w.cols);
  const int64_t quant_bytes = PanelQuantBytes(w.type);
  const uint8_t* panel = static_cast<const uint8_t*>(w.data) + (row / kRowPanelHeight) * stride;
  const uint8_t* quants = panel + PanelScaleBytes(nb);
  const int r = static_cast<int>(row % kRowPanelHeight);
  if (IsKQuantPanel(w.type)) {
    const int64_t block_bytes = Traits(w.type).block_bytes, ns = w.cols / 256;
    for (int64_t s = 0; s < ns; ++s) {
      for (int j = 0; j < block_bytes; ++j) out[s * block_bytes + j] = panel[KQuantByte(w.type, w.cols, s, r, j)];
    }
    return;
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* slice = quants + b * quant_bytes;
    if (w.type == DType::kQ8_0) {
      BlockQ8_0 blk;
      std::memcpy(&blk.d, panel + 2 * (16 * b + r), 2);
      for (int i = 0; i < 32; ++i) blk.qs[i] = static_cast<int8_t>(slice[SlotQ8_0(r, i).byte] - 128);
      std::memcpy(out + b * sizeof(BlockQ8_0), &blk, sizeof(blk));
    } else {
      BlockQ4_0 blk;
      std::memcpy(&blk.d, panel + 2 * (16 * b + r), 2);
      for (int j = 0; j < 16; ++j) {
        const ValueSlot lo = SlotQ4_0(r, j), hi = SlotQ4_0(r, j + 16);
        blk.qs[j] = static_cast<uint8_t>(((slice[lo.byte] >> lo.shift) & 0x0F) |
                                         (((slice[hi.byte] >> hi.shift) & 0x0F) << 4));
      }
      std::memcpy(out + b * sizeof(BlockQ4_0), &blk, sizeof(blk));
    }
  }
}

}  // namespace ember
