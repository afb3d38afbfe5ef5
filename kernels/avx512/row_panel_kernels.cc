// Row-panel kernels (kernels/row_panels.h has the layout and why). A 16-row panel is read
// front to back, one 32-value block slice at a time: per block, Q8_0 takes 8 vector loads
// and 8 vpdpbusd, Q4_0 4 loads, 4 nibble splits and 8 vpdpbusd, each vpdpbusd against 4
// activation bytes broadcast to all lanes; the int32 sums of 16 rows then take one convert
// and one scale (weight scale per lane times the activation's block scale) into float.
//
// Like matmul_kernels.cc this file must not use library templates or external-linkage
// inline functions: the linker could give their AVX-512 copies to baseline callers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/avx512/row_panel_kernels.h"

#include <immintrin.h>

#include <cstring>

#include "kernels/avx512/int8_panel_gemm.h"
#include "kernels/avx512/lanes.h"
#include "kernels/blocks.h"
#include "kernels/row_panels.h"

namespace ember {
namespace avx512 {
namespace {

// Decode streams each thread's panels front to back from DRAM. Asking for the slice 2 KiB
// ahead keeps more misses in flight than the hardware prefetcher alone: matmul_bench
// BM_DecodeFromMemory, 1 thread, side by side: Q4_0 9.4-10.1 -> 11.4-11.5 GB/s, Q8_0
// 12.3-13.0 -> 13.7-14.0 GB/s (1 KiB and 4 KiB measured lower for Q4_0).
constexpr int64_t kPrefetchBytes = 2048;

// The activation arrays, by value: the kernels store through __m512 pointers, which may
// alias anything, so pointers read through a reference would be reloaded every block.
struct Activations {
  const int8_t* q;
  const int32_t* bias1;
  const float* d;
  int64_t cols, nb;
  explicit Activations(const Q8ActivationsView& v) : q(v.q), bias1(v.bias1), d(v.d), cols(v.cols), nb(v.n_blocks) {}
};

// One 32-value block of one panel for T tokens: acc[t] += the block's 16 row sums times the
// weight and activation scales, asking for the slice kPrefetchBytes ahead.
//
// One or two tokens sum each block in two int32 chains per token (more independent dpbusd
// in flight); three or more already give enough chains and keep one per token, which also
// leaves registers for 8 (measured side by side with 4 sessions: one chain no slower). Integer sums are exact, so every T gives each token the same int32 sum
// and then the same float operations: the per-token arithmetic does not depend on T.
template <bool kQ8, int T>
inline void PanelBlock(const uint8_t* panel, const uint8_t* slice, int64_t b, const Activations x, __m512* acc) {
  constexpr bool kTwoChains = T <= 2;
  // Every token count streams from DRAM: batched decode runs groups of up to 8 tokens
  // (RowExactPanels), whose first group reads each chunk from memory.
  #pragma GCC unroll 8
  for (int64_t l = 0; l < (kQ8 ? 512 : 256); l += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(slice + kPrefetchBytes + l), _MM_HINT_T0);
  }
  const int64_t nb = x.nb;
  __m512i i0[T], i1[T];
  const int8_t* xo[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    i0[t] = _mm512_set1_epi32(x.bias1[t * nb + b]);  // -o * sum(q_x): undoes the weight offset
    i1[t] = _mm512_setzero_si512();
    xo[t] = x.q + t * x.cols + 32 * b;
  }
  if constexpr (kQ8) {
    #pragma GCC unroll 8
    for (int g = 0; g < 8; g += 2) {
      const __m512i w0 = _mm512_load_si512(slice + 64 * g);
      const __m512i w1 = _mm512_load_si512(slice + 64 * g + 64);
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        i0[t] = _mm512_dpbusd_epi32(i0[t], w0, Broadcast4(xo[t] + 4 * g));
        __m512i& second = kTwoChains ? i1[t] : i0[t];
        second = _mm512_dpbusd_epi32(second, w1, Broadcast4(xo[t] + 4 * g + 4));
      }
    }
  } else {
    const __m512i nib = _mm512_set1_epi8(0x0F);
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m512i raw = _mm512_load_si512(slice + 64 * k);
      const __m512i lo = _mm512_and_si512(raw, nib);                         // values 4k..4k+3
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), nib);  // values 16+4k..
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        i0[t] = _mm512_dpbusd_epi32(i0[t], lo, Broadcast4(xo[t] + 4 * k));
        __m512i& second = kTwoChains ? i1[t] : i0[t];
        second = _mm512_dpbusd_epi32(second, hi, Broadcast4(xo[t] + 16 + 4 * k));
      }
    }
  }
  const __m512 ws = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel + 32 * b)));
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    const __m512 sums = _mm512_cvtepi32_ps(kTwoChains ? _mm512_add_epi32(i0[t], i1[t]) : i0[t]);
    acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(sums, _mm512_set1_ps(x.d[t * nb + b])), ws, acc[t]);
  }
}

// y for T tokens (2 to 8: small batches) over the panels holding rows [row_begin, row_end).
template <bool kQ8, int T>
void PanelRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
               int64_t y_stride) {
  const int64_t nb = x.n_blocks, stride = PanelStride(w.type, w.cols);
  const int64_t quant_bytes = kQ8 ? 512 : 256, scale_bytes = PanelScaleBytes(nb);
  const Activations xa(x);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kRowPanelHeight) {
    const uint8_t* panel = static_cast<const uint8_t*>(w.data) + (r0 / kRowPanelHeight) * stride;
    __m512 acc[T];
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) PanelBlock<kQ8, T>(panel, panel + scale_bytes + b * quant_bytes, b, xa, acc);
    const __mmask16 m = RowMask(row_end - r0);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + r0, m, acc[t]);
  }
}

// Decode over two halves of the thread's panels at once: two independent DRAM streams keep
// more misses in flight than one. matmul_bench BM_DecodeFromMemory, 1 thread, three
// alternating pairs on a busy machine: Q4_0 6.7-8.3 -> 9.2-12.7 GB/s, Q8_0 10.0-12.3 ->
// 10.8-13.1 GB/s.
template <bool kQ8>
void PanelRowsTwoStreams(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                         float* y) {
  const int64_t nb = x.n_blocks, stride = PanelStride(w.type, w.cols);
  const int64_t quant_bytes = kQ8 ? 512 : 256, scale_bytes = PanelScaleBytes(nb);
  const int64_t p_begin = row_begin / kRowPanelHeight, p_end = PanelCount(row_end);
  const int64_t half = (p_end - p_begin) / 2, p_mid = p_begin + half;
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  const Activations xa(x);
  auto store = [&](int64_t p, __m512 acc) {
    const int64_t r0 = p * kRowPanelHeight;
    _mm512_mask_storeu_ps(y + r0, RowMask(row_end - r0), acc);
  };
  for (int64_t i = 0; i < half; ++i) {
    const uint8_t* pa = base + (p_begin + i) * stride;
    const uint8_t* pb = base + (p_mid + i) * stride;
    __m512 acc_a = _mm512_setzero_ps(), acc_b = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      PanelBlock<kQ8, 1>(pa, pa + scale_bytes + b * quant_bytes, b, xa, &acc_a);
      PanelBlock<kQ8, 1>(pb, pb + scale_bytes + b * quant_bytes, b, xa, &acc_b);
    }
    store(p_begin + i, acc_a);
    store(p_mid + i, acc_b);
  }
  for (int64_t p = p_mid + half; p < p_end; ++p) {  // an odd panel out
    const uint8_t* pp = base + p * stride;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      PanelBlock<kQ8, 1>(pp, pp + scale_bytes + b * quant_bytes, b, xa, &acc);
    }
    store(p, acc);
  }
}

// Row exactness (kernels/kernel_table.h): PanelRows<kQ8, T> computes each token with the
// operations PanelRowsTwoStreams uses for one, and so does the prefill GEMM
// (int8_panel_gemm.cc), so every token count gets the one-token arithmetic.
template <bool kQ8, int T>
void PanelRowsN(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
                int64_t y_stride) {
  if constexpr (T == 1) {
    PanelRowsTwoStreams<kQ8>(w, row_begin, row_end, x, y);
  } else {
    PanelRows<kQ8, T>(w, row_begin, row_end, x, y, y_stride);
  }
}

// Up to kStreamMaxTokens tokens (decode, batched decode of several sessions, short inputs)
// stream the panels from memory once for all tokens; more tokens repack 32-row panels into
// L1 for the token-tiled GEMM, which reuses each weight byte for every token.
constexpr int kStreamMaxTokens = 8;

template <bool kQ8>
void RowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
               int64_t y_stride) {
  static constexpr TokenCountKernel kByCount[kStreamMaxTokens + 1] = {
      nullptr,            PanelRowsN<kQ8, 1>, PanelRowsN<kQ8, 2>, PanelRowsN<kQ8, 3>, PanelRowsN<kQ8, 4>,
      PanelRowsN<kQ8, 5>, PanelRowsN<kQ8, 6>, PanelRowsN<kQ8, 7>, PanelRowsN<kQ8, 8>};
  if (x.n_tokens > kStreamMaxTokens) {
    RowPanelsGemm(w, row_begin, row_end, x, y, y_stride);
    return;
  }
  kByCount[x.n_tokens](w, row_begin, row_end, x, y, y_stride);
}

}  // namespace

void Q8_0RowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  RowPanels<true>(w, row_begin, row_end, x, y, y_stride);
}

void Q4_0RowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  RowPanels<false>(w, row_begin, row_end, x, y, y_stride);
}

void PackRowPanels(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst) {
  if (IsKQuantPanel(src.type)) {
    PackKQuantRowPanels(src, panel_begin, panel_end, dst);
    return;
  }
  const bool q8 = src.type == DType::kQ8_0;
  const int64_t nb = src.cols / 32, stride = PanelStride(src.type, src.cols);
  const int64_t quant_bytes = PanelQuantBytes(src.type), scale_bytes = PanelScaleBytes(nb);
  const int64_t block_bytes = q8 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
  if (src.row_bytes > (int64_t{1} << 31) / 16) {  // gather offsets are int32
    scalar::PackRowPanels(src, panel_begin, panel_end, dst);
    return;
  }
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    uint8_t* panel = dst + p * stride;
    uint8_t* quants = panel + scale_bytes;
    const int64_t row0 = p * kRowPanelHeight;
    const __mmask16 m = RowMask(src.rows - row0);
    const uint8_t* rows = static_cast<const uint8_t*>(src.data) + row0 * src.row_bytes;
    std::memset(panel + nb * 32, 0, static_cast<size_t>(scale_bytes - nb * 32));
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = rows + b * block_bytes;
      const __m512i d = GatherRows(blk, src.row_bytes, m);  // fp16 scale in each low half
      _mm256_store_si256(reinterpret_cast<__m256i*>(panel + 32 * b), _mm512_cvtepi32_epi16(d));
      uint8_t* slice = quants + b * quant_bytes;
      if (q8) {
        for (int g = 0; g < 8; ++g) {
          const __m512i q = GatherRows(blk + 2 + 4 * g, src.row_bytes, m);
          // w + 128 as unsigned: flip the sign bit; rows past the end stay 0.
          _mm512_store_si512(slice + 64 * g, _mm512_maskz_xor_epi32(m, q, _mm512_set1_epi8(static_cast<char>(0x80))));
        }
      } else {
        for (int k = 0; k < 4; ++k) _mm512_store_si512(slice + 64 * k, GatherRows(blk + 2 + 4 * k, src.row_bytes, m));
      }
    }
  }
}

}  // namespace avx512
}  // namespace ember
