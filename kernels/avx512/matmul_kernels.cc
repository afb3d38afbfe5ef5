// AVX-512 row kernels (F/BW/VL/DQ + VNNI). Only called after kernels/dispatch.cc has checked
// the CPU. Nothing here may use library templates or inline functions with external linkage
// (std::min, fp16.h, ...): the linker could hand this ISA's copy to baseline callers.
//
// Quantized weights: each 64-value step is decoded to unsigned bytes u = w + o (o per type)
// plus a per-lane float weight scale; vpdpbusd(bias, u, q_x) starts from the activation's
// precomputed -o * sum(q_x) lanes and so yields exact integer partial sums of w * q_x, four
// values per int32 lane. Each lane is then scaled by weight scale * d_x in float.
// GCC 12 reports its own _mm512_undefined_* self-initialisations as uninitialised reads.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/avx512/int8_panel_gemm.h"
#include "kernels/avx512/row_panel_kernels.h"
#include "kernels/blocks.h"
#include "kernels/kernel_table.h"
#include "kernels/tile_walk.h"

namespace ember {
namespace avx512 {
namespace {

inline float HalfToFloat(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// ---------------------------------------------------------------------------------------
// Float weights.

template <DType kType>
struct FloatLoad;
template <>
struct FloatLoad<DType::kF32> {
  static constexpr int kBytes = 4;
  static __m512 Load(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static __m512 LoadTail(const uint8_t* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
template <>
struct FloatLoad<DType::kF16> {
  static constexpr int kBytes = 2;
  static __m512 Load(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 LoadTail(const uint8_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
template <>
struct FloatLoad<DType::kBF16> {
  static constexpr int kBytes = 2;
  static __m512 Widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 Load(const uint8_t* p) {
    return Widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 LoadTail(const uint8_t* p, __mmask16 m) { return Widen(_mm256_maskz_loadu_epi16(m, p)); }
};

// R rows x T tokens register tile over the full row length.
template <DType kType, int R, int T>
void FloatTile(const WeightMatrix& w, int64_t r0, const float* x, int64_t t0, float* y,
               int64_t y_stride) {
  using L = FloatLoad<kType>;
  const int64_t cols = w.cols;
  const uint8_t* row[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) row[r] = static_cast<const uint8_t*>(w.data) + (r0 + r) * w.row_bytes;
  const float* xt[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) xt[t] = x + (t0 + t) * cols;
  __m512 acc[R][T];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    __m512 wv[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = L::Load(row[r] + c * L::kBytes);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(xt[t] + c);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (c < cols) {
    const __mmask16 m = static_cast<__mmask16>((1u << (cols - c)) - 1);
    __m512 wv[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = L::LoadTail(row[r] + c * L::kBytes, m);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, xt[t] + c);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[(t0 + t) * y_stride + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
}

// ---------------------------------------------------------------------------------------
// Quantized weights: one decoder per block type.
//
// A decoder walks a row in groups (one Q8_0/Q4_0 block pair, or one K-quant super-block) of
// kSteps 64-value steps. Prepare reads a group's scales; Weights/Scales give step j.

// Lane scale vector for a 64-value step from two per-32 scales.
// The fp16 scales (first two bytes) of n <= 16 consecutive blocks, as floats; lanes past n
// are 0 and read nothing.
inline __m512 GatherBlockScales(const uint8_t* first_block, int block_bytes, int64_t n) {
  const __mmask16 m = n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
  const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(block_bytes));
  const __m512i dwords = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, first_block, 1);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dwords));
}

// Q8_0 and Q4_0 leave State::s to QuantTile, which converts 16 block scales at a time
// (GatherBlockScales): one gather instead of two scalar fp16 conversions per step.
struct Q8_0Decoder {
  static constexpr int kGroupValues = 64, kSteps = 1, kOffset = 128, kBlockBytes = sizeof(BlockQ8_0);
  static constexpr bool kHasMins = false, kHalfGroups = true;
  struct State {
    __m512i w;
    __m512 s;
    __m512 mins;  // unused
  };
  static void Prepare(const uint8_t* row, int64_t g, bool half, State* st) {
    const uint8_t* b0 = row + g * 2 * sizeof(BlockQ8_0);
    const uint8_t* b1 = b0 + sizeof(BlockQ8_0);
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2));
    const __m256i q1 = half ? _mm256_set1_epi8(-128)
                            : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + 2));
    // w + 128 as unsigned: flip the sign bit (a missing half becomes 0).
    st->w = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1),
                             _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  static __m512i Weights(const State& st, int) { return st.w; }
  static __m512 Scales(const State& st, int) { return st.s; }
};

struct Q4_0Decoder {
  static constexpr int kGroupValues = 64, kSteps = 1, kOffset = 8, kBlockBytes = sizeof(BlockQ4_0);
  static constexpr bool kHasMins = false, kHalfGroups = true;
  struct State {
    __m512i w;
    __m512 s;
    __m512 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, bool half, State* st) {
    const uint8_t* b0 = row + g * 2 * sizeof(BlockQ4_0);
    const uint8_t* b1 = b0 + sizeof(BlockQ4_0);
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b0 + 2));
    const __m128i q1 = half ? _mm_setzero_si128() : _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1 + 2));
    // 128-bit lanes: [q0, q0, q1, q1]; lanes 0 and 2 keep low nibbles (values 0-15 of a
    // block), lanes 1 and 3 high nibbles (values 16-31).
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(q0)),
                                         _mm256_broadcastsi128_si256(q1), 1);
    const __m512i nib = _mm512_set1_epi8(0x0F);
    st->w = _mm512_mask_blend_epi64(0xCC, _mm512_and_si512(z, nib),
                                    _mm512_and_si512(_mm512_srli_epi16(z, 4), nib));
  }
  static __m512i Weights(const State& st, int) { return st.w; }
  static __m512 Scales(const State& st, int) { return st.s; }
};

// Shared by Q4_K and Q5_K: eight sub-block scales d*sc and mins dmin*m as float lanes 0-7.
inline void PrepareScalesMinsK(const uint8_t* d_ptr, const uint8_t* scales, __m512* s8, __m512* mins8) {
  uint8_t sc[8], m[8];
  UnpackScalesMinsK(scales, sc, m);
  uint64_t sc64, m64;
  std::memcpy(&sc64, sc, 8);
  std::memcpy(&m64, m, 8);
  const __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(sc64))));
  const __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(m64))));
  *s8 = _mm512_zextps256_ps512(_mm256_mul_ps(_mm256_set1_ps(HalfToFloat(d_ptr)), scf));
  *mins8 = _mm512_zextps256_ps512(_mm256_mul_ps(_mm256_set1_ps(HalfToFloat(d_ptr + 2)), mf));
}

// Step j covers sub-blocks 2j, 2j+1.
inline __m512 PairScales(__m512 s8, int j) {
  const __m512i idx = _mm512_inserti64x4(_mm512_set1_epi32(2 * j), _mm256_set1_epi32(2 * j + 1), 1);
  return _mm512_permutexvar_ps(idx, s8);
}

struct Q4_KDecoder {
  static constexpr int kGroupValues = 256, kSteps = 4, kOffset = 0;
  static constexpr bool kHasMins = true, kHalfGroups = false;
  struct State {
    const uint8_t* qs;
    __m512 s8;
    __m512 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, bool, State* st) {
    const uint8_t* blk = row + g * sizeof(BlockQ4_K);
    st->qs = blk + offsetof(BlockQ4_K, qs);
    PrepareScalesMinsK(blk, blk + offsetof(BlockQ4_K, scales), &st->s8, &st->mins);
  }
  static __m512i Weights(const State& st, int j) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.qs + 32 * j));
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1);
    return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
  }
  static __m512 Scales(const State& st, int j) { return PairScales(st.s8, j); }
};

struct Q5_KDecoder {
  static constexpr int kGroupValues = 256, kSteps = 4, kOffset = 0;
  static constexpr bool kHasMins = true, kHalfGroups = false;
  struct State {
    const uint8_t* qs;
    __m512i qh;  // qh twice
    __m512 s8;
    __m512 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, bool, State* st) {
    const uint8_t* blk = row + g * sizeof(BlockQ5_K);
    st->qs = blk + offsetof(BlockQ5_K, qs);
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(BlockQ5_K, qh)));
    st->qh = _mm512_inserti64x4(_mm512_castsi256_si512(h), h, 1);
    PrepareScalesMinsK(blk, blk + offsetof(BlockQ5_K, scales), &st->s8, &st->mins);
  }
  static __m512i Weights(const State& st, int j) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.qs + 32 * j));
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1);
    const __m512i nib = _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
    // Fifth bits: bit 2j of qh for the low half, bit 2j+1 for the high half.
    const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * j)),
                                             _mm256_set1_epi16(static_cast<short>(2 * j + 1)), 1);
    const __m512i hb = _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi16(st.qh, shift), 4),
                                        _mm512_set1_epi8(0x10));
    return _mm512_or_si512(nib, hb);
  }
  static __m512 Scales(const State& st, int j) { return PairScales(st.s8, j); }
};

struct Q6_KDecoder {
  static constexpr int kGroupValues = 256, kSteps = 4, kOffset = 32;
  static constexpr bool kHasMins = false, kHalfGroups = false;
  struct State {
    const uint8_t* blk;
    __m512 s16;  // d * scales[i], i = 0..15
    __m512 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, bool, State* st) {
    st->blk = row + g * sizeof(BlockQ6_K);
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(st->blk + offsetof(BlockQ6_K, scales)));
    st->s16 = _mm512_mul_ps(_mm512_set1_ps(HalfToFloat(st->blk + offsetof(BlockQ6_K, d))),
                            _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc)));
  }
  // Step j: half h = j / 2; even j takes low nibbles and qh bits 0-1 / 2-3, odd j high
  // nibbles and bits 4-5 / 6-7 (first 32 values from ql[0..32), next 32 from ql[32..64)).
  static __m512i Weights(const State& st, int j) {
    const int h = j / 2, odd = j % 2;
    const uint8_t* ql = st.blk + 64 * h;
    const __m512i ab = _mm512_loadu_si512(ql);
    const __m256i hq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.blk + 128 + 32 * h));
    const __m512i hh = _mm512_inserti64x4(_mm512_castsi256_si512(hq), hq, 1);
    const __m512i nib = _mm512_and_si512(_mm512_srli_epi16(ab, 4 * odd), _mm512_set1_epi8(0x0F));
    const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(4 * odd)),
                                             _mm256_set1_epi16(static_cast<short>(4 * odd + 2)), 1);
    const __m512i hb = _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi16(hh, shift), 4),
                                        _mm512_set1_epi8(0x30));
    return _mm512_or_si512(nib, hb);
  }
  // Sixteen lanes = four 16-value sub-blocks 4j .. 4j+3, four lanes each.
  static __m512 Scales(const State& st, int j) {
    const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(4 * j),
                                         _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0));
    return _mm512_permutexvar_ps(idx, st.s16);
  }
};

template <class D, int R, int T>
void QuantTile(const WeightMatrix& w, int64_t r0, const Q8ActivationsView& x, int64_t t0, float* y,
               int64_t y_stride) {
  const int64_t cols = w.cols, nb = x.n_blocks;
  const uint8_t* row[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) row[r] = static_cast<const uint8_t*>(w.data) + (r0 + r) * w.row_bytes;
  const int8_t* xq[T];
  const int32_t* xb[T];
  const float* xd[T];
  const float* xs[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = x.q + (t0 + t) * cols;
    xb[t] = x.bias8 + (t0 + t) * nb * 8;
    xd[t] = x.d8 + (t0 + t) * nb * 8;
    xs[t] = x.dsum + (t0 + t) * nb;
  }
  __m512 acc[R][T];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

  __m512 s16[R];  // Q8_0 / Q4_0: scales of the current 16 blocks per row
  const int64_t full_groups = cols / D::kGroupValues;
  const bool half_group = D::kHalfGroups && cols % D::kGroupValues != 0;
  for (int64_t g = 0; g < full_groups + (half_group ? 1 : 0); ++g) {
    const bool half = g == full_groups;
    if constexpr (T == 1) {
      // Decode streams R rows at once, more streams than the L2 prefetcher tracks well:
      // ask for each row's bytes ~1 KiB ahead.
      const int64_t ahead = g * w.row_bytes / (cols / D::kGroupValues > 0 ? cols / D::kGroupValues : 1) + 1024;
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(row[r] + ahead), _MM_HINT_T0);
    }
    typename D::State st[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) D::Prepare(row[r], g, half, &st[r]);
    if constexpr (D::kHalfGroups) {  // groups are block pairs: 8 groups per 16 gathered scales
      if (g % 8 == 0) {
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) s16[r] = GatherBlockScales(row[r] + 2 * g * D::kBlockBytes, D::kBlockBytes, nb - 2 * g);
      }
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) st[r].s = PairScales(s16[r], static_cast<int>(g % 8));
    }
    for (int j = 0; j < D::kSteps; ++j) {
      const int64_t k = g * D::kSteps + j;  // 64-value step index
      __m512i wv[R];
      __m512 sv[R];
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        wv[r] = D::Weights(st[r], j);
        sv[r] = D::Scales(st[r], j);
      }
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        __m512i xv, bv;
        __m512 dv;
        if (half) {  // only 32 activation values (8 lanes) remain
          xv = _mm512_maskz_loadu_epi8(0xFFFFFFFFull, xq[t] + 64 * k);
          bv = _mm512_maskz_loadu_epi32(0x00FF, xb[t] + 16 * k);
          dv = _mm512_maskz_loadu_ps(0x00FF, xd[t] + 16 * k);
        } else {
          xv = _mm512_loadu_si512(xq[t] + 64 * k);
          bv = _mm512_loadu_si512(xb[t] + 16 * k);
          dv = _mm512_loadu_ps(xd[t] + 16 * k);
        }
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m512i dot = _mm512_dpbusd_epi32(bv, wv[r], xv);
          acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(sv[r], dv), acc[r][t]);
        }
      }
    }
    if constexpr (D::kHasMins) {
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512 ds = _mm512_maskz_loadu_ps(0x00FF, xs[t] + 8 * g);
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fnmadd_ps(st[r].mins, ds, acc[r][t]);
      }
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[(t0 + t) * y_stride + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
}

// ---------------------------------------------------------------------------------------
// Tiling (kernels/tile_walk.h): tiles of 4 rows x up to 4 tokens.

template <DType kType>
struct FloatTiles {
  template <int R, int T>
  struct Tile {
    static void Run(const void* p) {
      const auto& a = *static_cast<const FloatArgs*>(p);
      FloatTile<kType, R, T>(*a.w, a.r0, a.x, a.t0, a.y, a.y_stride);
    }
  };
};

template <DType kType>
void FloatRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x, int64_t n_tokens,
               float* y, int64_t y_stride) {
  ForEachTile<FloatTiles<kType>::template Tile>(FloatArgs{&w, x, y, y_stride, 0, 0}, row_begin, row_end,
                                                n_tokens, w.row_bytes, 4);
}

template <class D>
struct QuantTiles {
  template <int R, int T>
  struct Tile {
    static void Run(const void* p) {
      const auto& a = *static_cast<const QuantArgs*>(p);
      QuantTile<D, R, T>(*a.w, a.r0, *a.x, a.t0, a.y, a.y_stride);
    }
  };
};

template <class D>
void QuantRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
               float* y, int64_t y_stride) {
  ForEachTile<QuantTiles<D>::template Tile>(QuantArgs{&w, &x, y, y_stride, 0, 0}, row_begin, row_end,
                                            x.n_tokens, w.row_bytes, 4);
}

// Q8_0 / Q4_0 prefill goes to the rows-in-lanes panel kernel (int8_panel_gemm.cc).
template <class D, QuantRowsKernel kPanel>
void PanelOrTileRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                     float* y, int64_t y_stride) {
  if (x.n_tokens >= kPanelGemmMinTokens) {
    kPanel(w, row_begin, row_end, x, y, y_stride);
  } else {
    QuantRows<D>(w, row_begin, row_end, x, y, y_stride);
  }
}

// Row-exact twins (kernels/kernel_table.h): the register tiles keep one accumulator per
// (row, token) in the same order for every tile shape, so the tile kernels are row-exact.
// Row-layout Q8_0 / Q4_0 prefill goes to the rows-in-lanes panel GEMM, whose per-row sums
// take another order than the tiles': it needs the tiles as twin. With the row-panel layout
// (what AVX-512 loads use) decode and prefill kernels share one per-row order, so every
// token count is row-exact and there are no twins.
constexpr KernelTable kTable = {
    FloatRows<DType::kF32>,
    FloatRows<DType::kF16>,
    FloatRows<DType::kBF16>,
    {PanelOrTileRows<Q8_0Decoder, Q8_0PanelGemm>, Q8_0Decoder::kOffset, QuantRows<Q8_0Decoder>},
    {PanelOrTileRows<Q4_0Decoder, Q4_0PanelGemm>, Q4_0Decoder::kOffset, QuantRows<Q4_0Decoder>},
    {QuantRows<Q4_KDecoder>, Q4_KDecoder::kOffset},
    {QuantRows<Q5_KDecoder>, Q5_KDecoder::kOffset},
    {QuantRows<Q6_KDecoder>, Q6_KDecoder::kOffset},
    {Q8_0RowPanels, Q8_0Decoder::kOffset},
    {Q4_0RowPanels, Q4_0Decoder::kOffset},
    PackRowPanels,
    {Q4_KRowPanels, 0},
    {Q5_KRowPanels, 0},
    {Q6_KRowPanels, 32},
};

}  // namespace
}  // namespace avx512

const KernelTable& Avx512Kernels() { return avx512::kTable; }

}  // namespace ember
