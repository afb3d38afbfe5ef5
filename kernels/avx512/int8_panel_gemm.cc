// Prefill micro-kernel for Q8_0 / Q4_0 weights with rows in vector lanes.
//
// The row-tile kernels in matmul_kernels.cc put 64 consecutive values of one row in a
// register, so every 32-value block ends in an int->float conversion and scale multiply
// per (row, token) for just one vpdpbusd: prefill runs at ~13% of the VNNI peak. Here 32
// weight rows are repacked (once per call, reused by every token) so that one 64-byte vector
// holds 4 consecutive values of 16 rows; one vpdpbusd then does 4 values x 16 rows against a
// broadcast of 4 activation bytes, and a 32-value block takes 8 vpdpbusd into one int32
// accumulator before the single convert + scale. Results land with rows in lanes, which is
// exactly the layout of y (token-major), so no horizontal sums either.
//
// Packed panel, per 32-value block b: bytes [8 groups][32 rows][4 values] of u = w + o, then
// 32 floats of row scales. Rows past the end are zero and never stored.
//
// Like matmul_kernels.cc this file must not use library templates or external-linkage inline
// functions (std::vector, std::min, ...): the linker could give their AVX-512 copies to
// baseline callers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/avx512/int8_panel_gemm.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "kernels/avx512/lanes.h"
#include "kernels/blocks.h"
#include "kernels/row_panels.h"

namespace ember {
namespace avx512 {
namespace {

constexpr int kPanelRows = 32;     // two vectors of 16 rows
constexpr int kTileTokens = 6;     // 2 x 6 int32 + 2 x 6 float accumulators: 24 of 32 zmm
constexpr int kBlockBytes = 8 * kPanelRows * 4;  // packed weights of one 32-value block
// Blocks per K chunk: the chunk's packed weights (24 x 1 KiB + scales) stay in the 48 KiB L1
// while every token tile runs over them.
constexpr int64_t kChunkBlocks = 24;

// fp16 scales in the low half of each gathered dword, as floats.
inline __m512 HalfScales(__m512i dwords) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dwords)); }

// Packers fill the 32-row panel at rows [r0, r0 + n_rows) of w; rows past the end are zero.
struct Q8_0Packer {
  static void Pack(const WeightMatrix& w, int64_t r0, int64_t n_rows, int64_t nb, uint8_t* pw, float* ps) {
    const int64_t row_bytes = w.row_bytes;
    const uint8_t* rows = static_cast<const uint8_t*>(w.data) + r0 * row_bytes;
    for (int v = 0; v < 2; ++v) {
      const __mmask16 m = RowMask(n_rows - 16 * v);
      const uint8_t* base = rows + 16 * v * row_bytes;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = base + b * static_cast<int64_t>(sizeof(BlockQ8_0));
        for (int g = 0; g < 8; ++g) {
          const __m512i q = GatherRows(blk + 2 + 4 * g, row_bytes, m);
          // w + 128 as unsigned: flip the sign bit.
          _mm512_store_si512(pw + b * kBlockBytes + g * 128 + 64 * v,
                             _mm512_maskz_xor_epi32(m, q, _mm512_set1_epi8(static_cast<char>(0x80))));
        }
        _mm512_store_ps(ps + b * 32 + 16 * v, HalfScales(GatherRows(blk, row_bytes, m)));
      }
    }
  }
};

struct Q4_0Packer {
  static void Pack(const WeightMatrix& w, int64_t r0, int64_t n_rows, int64_t nb, uint8_t* pw, float* ps) {
    const int64_t row_bytes = w.row_bytes;
    const uint8_t* rows = static_cast<const uint8_t*>(w.data) + r0 * row_bytes;
    for (int v = 0; v < 2; ++v) {
      const __mmask16 m = RowMask(n_rows - 16 * v);
      const uint8_t* base = rows + 16 * v * row_bytes;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = base + b * static_cast<int64_t>(sizeof(BlockQ4_0));
        for (int g = 0; g < 8; ++g) {
          // Values 4g..4g+3: low nibbles of qs[4g..] for g < 4, high nibbles of qs[4g-16..].
          const __m512i q = GatherRows(blk + 2 + 4 * (g % 4), row_bytes, m);
          const __m512i nib = _mm512_and_si512(_mm512_srli_epi32(q, 4 * (g / 4)), _mm512_set1_epi8(0x0F));
          _mm512_store_si512(pw + b * kBlockBytes + g * 128 + 64 * v, nib);
        }
        _mm512_store_ps(ps + b * 32 + 16 * v, HalfScales(GatherRows(blk, row_bytes, m)));
      }
    }
  }
};

// From the load-time row-panel layout (kernels/row_panels.h) the 32-row panel is two 16-row
// panels side by side: plain copies (Q8_0) or one nibble split (Q4_0), no gathers. r0 is a
// multiple of 16 (MatMul hands out 16-row units).
template <bool kQ8>
struct RowPanelsPacker {
  static void Pack(const WeightMatrix& w, int64_t r0, int64_t n_rows, int64_t nb, uint8_t* pw, float* ps) {
    const int64_t stride = PanelStride(w.type, w.cols), quant_bytes = PanelQuantBytes(w.type);
    for (int v = 0; v < 2; ++v) {
      if (n_rows - 16 * v <= 0) {  // no second panel: zero rows
        for (int64_t b = 0; b < nb; ++b) {
          for (int g = 0; g < 8; ++g) _mm512_store_si512(pw + b * kBlockBytes + g * 128 + 64 * v, _mm512_setzero_si512());
          _mm512_store_ps(ps + b * 32 + 16 * v, _mm512_setzero_ps());
        }
        continue;
      }
      const uint8_t* panel = static_cast<const uint8_t*>(w.data) + (r0 / kRowPanelHeight + v) * stride;
      const uint8_t* quants = panel + PanelScaleBytes(nb);
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* slice = quants + b * quant_bytes;
        uint8_t* dst = pw + b * kBlockBytes + 64 * v;
        if constexpr (kQ8) {
          for (int g = 0; g < 8; ++g) _mm512_store_si512(dst + g * 128, _mm512_load_si512(slice + 64 * g));
        } else {
          const __m512i nib = _mm512_set1_epi8(0x0F);
          for (int k = 0; k < 4; ++k) {
            const __m512i raw = _mm512_load_si512(slice + 64 * k);
            _mm512_store_si512(dst + k * 128, _mm512_and_si512(raw, nib));
            _mm512_store_si512(dst + (4 + k) * 128, _mm512_and_si512(_mm512_srli_epi16(raw, 4), nib));
          }
        }
        _mm512_store_ps(ps + b * 32 + 16 * v,
                        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + 32 * b))));
      }
    }
  }
};

// y rows [r0, r0 + 32) x tokens [t0, t0 + T), blocks [b0, b1) of the packed panel.
// `first` starts each sum at zero; later chunks resume the sums earlier chunks stored.
//
// Row exactness (kernels/kernel_table.h): per (row, token) this is the one-token decode
// kernel's arithmetic (row_panel_kernels.cc PanelBlock): an exact int32 block sum, then
// acc = fma(float(sum) * d_x, d_w, acc) block after block in one chain. Resuming the chain
// from the stored float (not adding a chunk's own partial sum to it) keeps it one chain, so
// a prompt's logits do not depend on how its tokens were split into calls (the server's
// prompt cache evaluates only what follows a reused prefix).
template <int T>
void PanelTile(const uint8_t* pw, const float* ps, int64_t b0, int64_t b1, const Q8ActivationsView& x, int64_t t0,
               float* y, int64_t y_stride, __mmask16 m0, __mmask16 m1, bool first) {
  const int64_t nb = x.n_blocks;
  const int8_t* xq[T];
  const int32_t* xb[T];
  const float* xd[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = x.q + (t0 + t) * x.cols;
    xb[t] = x.bias1 + (t0 + t) * nb;
    xd[t] = x.d + (t0 + t) * nb;
  }
  __m512 acc0[T], acc1[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    float* yt = y + (t0 + t) * y_stride;
    acc0[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m0, yt);
    acc1[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m1, yt + 16);
  }
  for (int64_t b = b0; b < b1; ++b) {
    const uint8_t* wb = pw + b * kBlockBytes;
    __m512i i0[T], i1[T];
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) i0[t] = i1[t] = _mm512_set1_epi32(xb[t][b]);  // -o * sum(q_x)
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = _mm512_load_si512(wb + g * 128);
      const __m512i w1 = _mm512_load_si512(wb + g * 128 + 64);
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        int32_t four;
        std::memcpy(&four, xq[t] + 32 * b + 4 * g, 4);
        const __m512i xv = _mm512_set1_epi32(four);
        i0[t] = _mm512_dpbusd_epi32(i0[t], w0, xv);
        i1[t] = _mm512_dpbusd_epi32(i1[t], w1, xv);
      }
    }
    const __m512 s0 = _mm512_load_ps(ps + 32 * b), s1 = _mm512_load_ps(ps + 32 * b + 16);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 d = _mm512_set1_ps(xd[t][b]);
      acc0[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(i0[t]), d), s0, acc0[t]);
      acc1[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(i1[t]), d), s1, acc1[t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    float* yt = y + (t0 + t) * y_stride;
    _mm512_mask_storeu_ps(yt, m0, acc0[t]);
    _mm512_mask_storeu_ps(yt + 16, m1, acc1[t]);
  }
}

using PanelTileFn = void (*)(const uint8_t*, const float*, int64_t, int64_t, const Q8ActivationsView&, int64_t,
                             float*, int64_t, __mmask16, __mmask16, bool);
constexpr PanelTileFn kPanelTiles[kTileTokens + 1] = {nullptr,       PanelTile<1>, PanelTile<2>, PanelTile<3>,
                                                      PanelTile<4>, PanelTile<5>, PanelTile<6>};

template <class Packer>
void PanelGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
               int64_t y_stride) {
  static thread_local AlignedScratch buffer;
  const int64_t nb = x.n_blocks;
  uint8_t* pw = buffer.Get(static_cast<size_t>(nb) * (kBlockBytes + 32 * sizeof(float)));
  float* ps = reinterpret_cast<float*>(pw + nb * kBlockBytes);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int64_t n_rows = Min(kPanelRows, row_end - r0);
    Packer::Pack(w, r0, n_rows, nb, pw, ps);
    const __mmask16 m0 = RowMask(n_rows), m1 = RowMask(n_rows - 16);
    for (int64_t b0 = 0; b0 < nb; b0 += kChunkBlocks) {
      const int64_t b1 = Min(nb, b0 + kChunkBlocks);
      for (int64_t t0 = 0; t0 < x.n_tokens; t0 += kTileTokens) {
        const int nt = static_cast<int>(Min(kTileTokens, x.n_tokens - t0));
        kPanelTiles[nt](pw, ps, b0, b1, x, t0, y + r0, y_stride, m0, m1, b0 == 0);
      }
    }
  }
}

}  // namespace

void Q8_0PanelGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  PanelGemm<Q8_0Packer>(w, row_begin, row_end, x, y, y_stride);
}

void Q4_0PanelGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  PanelGemm<Q4_0Packer>(w, row_begin, row_end, x, y, y_stride);
}

void RowPanelsGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  if (w.type == DType::kQ8_0) {
    PanelGemm<RowPanelsPacker<true>>(w, row_begin, row_end, x, y, y_stride);
  } else {
    PanelGemm<RowPanelsPacker<false>>(w, row_begin, row_end, x, y, y_stride);
  }
}

}  // namespace avx512
}  // namespace ember
