// AVX2 + FMA + F16C row kernels, for x86-64 machines without AVX-512. Same scheme as
// kernels/avx512/matmul_kernels.cc with 32-value steps; the int8 dot product is
// vpmaddubsw + vpmaddwd (no VNNI). vpmaddubsw saturates at int16, so Q8_0 keeps its
// weights signed and moves the sign onto the activations (|w| * sign(x, w) <= 128 * 127 * 2
// fits); the other types have small unsigned codes. Same linkage rule as the AVX-512 file:
// no library templates or external inline functions here.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/kernel_table.h"
#include "kernels/tile_walk.h"

namespace ember {
namespace avx2 {
namespace {

inline float HalfToFloat(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float ReduceAdd(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// ---------------------------------------------------------------------------------------
// Float weights. Columns past the last multiple of 8 are done one at a time.

template <DType kType>
struct FloatLoad;
template <>
struct FloatLoad<DType::kF32> {
  static constexpr int kBytes = 4;
  static __m256 Load(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
  static float One(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
};
template <>
struct FloatLoad<DType::kF16> {
  static constexpr int kBytes = 2;
  static __m256 Load(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float One(const uint8_t* p) { return HalfToFloat(p); }
};
template <>
struct FloatLoad<DType::kBF16> {
  static constexpr int kBytes = 2;
  static __m256 Load(const uint8_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float One(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

template <DType kType, int R, int T>
void FloatTile(const WeightMatrix& w, int64_t r0, const float* x, int64_t t0, float* y, int64_t y_stride) {
  using L = FloatLoad<kType>;
  const int64_t cols = w.cols;
  const uint8_t* row[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) row[r] = static_cast<const uint8_t*>(w.data) + (r0 + r) * w.row_bytes;
  const float* xt[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) xt[t] = x + (t0 + t) * cols;
  __m256 acc[R][T];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 wv[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = L::Load(row[r] + c * L::kBytes);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_loadu_ps(xt[t] + c);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float sum = ReduceAdd(acc[r][t]);
      for (int64_t cc = c; cc < cols; ++cc) sum += L::One(row[r] + cc * L::kBytes) * xt[t][cc];
      y[(t0 + t) * y_stride + r0 + r] = sum;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Quantized weights: decoders give, per 32-value step, unsigned codes (or, for Q8_0, signed
// values with kSigned) and a lane scale vector; groups are one block or one super-block.

struct Q8_0Decoder {
  static constexpr int kGroupValues = 32, kSteps = 1, kOffset = 0;
  static constexpr bool kHasMins = false, kSigned = true;
  struct State {
    const uint8_t* blk;
    __m256 mins;  // unused
  };
  static void Prepare(const uint8_t* row, int64_t g, State* st) { st->blk = row + g * sizeof(BlockQ8_0); }
  static __m256i Weights(const State& st, int) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.blk + 2));
  }
  static __m256 Scales(const State& st, int) { return _mm256_set1_ps(HalfToFloat(st.blk)); }
};

struct Q4_0Decoder {
  static constexpr int kGroupValues = 32, kSteps = 1, kOffset = 8;
  static constexpr bool kHasMins = false, kSigned = false;
  struct State {
    const uint8_t* blk;
    __m256 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, State* st) { st->blk = row + g * sizeof(BlockQ4_0); }
  static __m256i Weights(const State& st, int) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(st.blk + 2));
    const __m128i nib = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), nib), _mm_and_si128(q, nib));
  }
  static __m256 Scales(const State& st, int) { return _mm256_set1_ps(HalfToFloat(st.blk)); }
};

inline void PrepareScalesMinsK(const uint8_t* d_ptr, const uint8_t* scales, float s8[8], __m256* mins8) {
  uint8_t sc[8], m[8];
  UnpackScalesMinsK(scales, sc, m);
  uint64_t sc64, m64;
  std::memcpy(&sc64, sc, 8);
  std::memcpy(&m64, m, 8);
  const __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(sc64))));
  const __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(m64))));
  _mm256_storeu_ps(s8, _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(d_ptr)), scf));
  *mins8 = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(d_ptr + 2)), mf);
}

// Step j = sub-block j: chunk j / 2 of qs, low nibbles for even j, high for odd.
inline __m256i NibblesK(const uint8_t* qs, int j) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * (j / 2)));
  return _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(4 * (j % 2))), _mm256_set1_epi8(0x0F));
}

struct Q4_KDecoder {
  static constexpr int kGroupValues = 256, kSteps = 8, kOffset = 0;
  static constexpr bool kHasMins = true, kSigned = false;
  struct State {
    const uint8_t* qs;
    float s8[8];
    __m256 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, State* st) {
    const uint8_t* blk = row + g * sizeof(BlockQ4_K);
    st->qs = blk + offsetof(BlockQ4_K, qs);
    PrepareScalesMinsK(blk, blk + offsetof(BlockQ4_K, scales), st->s8, &st->mins);
  }
  static __m256i Weights(const State& st, int j) { return NibblesK(st.qs, j); }
  static __m256 Scales(const State& st, int j) { return _mm256_set1_ps(st.s8[j]); }
};

struct Q5_KDecoder {
  static constexpr int kGroupValues = 256, kSteps = 8, kOffset = 0;
  static constexpr bool kHasMins = true, kSigned = false;
  struct State {
    const uint8_t* qs;
    const uint8_t* qh;
    float s8[8];
    __m256 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, State* st) {
    const uint8_t* blk = row + g * sizeof(BlockQ5_K);
    st->qs = blk + offsetof(BlockQ5_K, qs);
    st->qh = blk + offsetof(BlockQ5_K, qh);
    PrepareScalesMinsK(blk, blk + offsetof(BlockQ5_K, scales), st->s8, &st->mins);
  }
  // Sub-block j takes bit j of qh as its fifth bit.
  static __m256i Weights(const State& st, int j) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.qh));
    const __m256i hb = _mm256_and_si256(_mm256_slli_epi16(_mm256_srl_epi16(h, _mm_cvtsi32_si128(j)), 4),
                                        _mm256_set1_epi8(0x10));
    return _mm256_or_si256(NibblesK(st.qs, j), hb);
  }
  static __m256 Scales(const State& st, int j) { return _mm256_set1_ps(st.s8[j]); }
};

struct Q6_KDecoder {
  static constexpr int kGroupValues = 256, kSteps = 8, kOffset = 32;
  static constexpr bool kHasMins = false, kSigned = false;
  struct State {
    const uint8_t* blk;
    float s16[16];
    __m256 mins;
  };
  static void Prepare(const uint8_t* row, int64_t g, State* st) {
    st->blk = row + g * sizeof(BlockQ6_K);
    const float d = HalfToFloat(st->blk + offsetof(BlockQ6_K, d));
    const int8_t* sc = reinterpret_cast<const int8_t*>(st->blk + offsetof(BlockQ6_K, scales));
    for (int i = 0; i < 16; ++i) st->s16[i] = d * static_cast<float>(sc[i]);
  }
  // Step j: half h = j / 4, quarter k = j % 4 -> ql[64h + 32 (k & 1) ..], nibble k >> 1,
  // qh[32h ..] bits 2k, 2k+1.
  static __m256i Weights(const State& st, int j) {
    const int h = j / 4, k = j % 4;
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.blk + 64 * h + 32 * (k & 1)));
    const __m256i hq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st.blk + 128 + 32 * h));
    const __m256i nib = _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(4 * (k >> 1))), _mm256_set1_epi8(0x0F));
    const __m256i hb = _mm256_and_si256(_mm256_slli_epi16(_mm256_srl_epi16(hq, _mm_cvtsi32_si128(2 * k)), 4),
                                        _mm256_set1_epi8(0x30));
    return _mm256_or_si256(nib, hb);
  }
  // Lanes 0-3 hold values 0-15 of the step (sub-block 2j), lanes 4-7 values 16-31.
  static __m256 Scales(const State& st, int j) {
    return _mm256_set_m128(_mm_set1_ps(st.s16[2 * j + 1]), _mm_set1_ps(st.s16[2 * j]));
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
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[R][T];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  for (int64_t g = 0; g < cols / D::kGroupValues; ++g) {
    typename D::State st[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) D::Prepare(row[r], g, &st[r]);
    for (int j = 0; j < D::kSteps; ++j) {
      const int64_t k = g * D::kSteps + j;  // 32-value block index
      __m256i wv[R];
      __m256 sv[R];
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        wv[r] = D::Weights(st[r], j);
        sv[r] = D::Scales(st[r], j);
      }
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + 32 * k));
        const __m256i bv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[t] + 8 * k));
        const __m256 dv = _mm256_loadu_ps(xd[t] + 8 * k);
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          __m256i pairs;
          if constexpr (D::kSigned) {
            pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(wv[r], wv[r]), _mm256_sign_epi8(xv, wv[r]));
          } else {
            pairs = _mm256_maddubs_epi16(wv[r], xv);
          }
          const __m256i dot = _mm256_add_epi32(bv, _mm256_madd_epi16(pairs, ones));
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(sv[r], dv), acc[r][t]);
        }
      }
    }
    if constexpr (D::kHasMins) {
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m256 ds = _mm256_loadu_ps(xs[t] + 8 * g);
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fnmadd_ps(st[r].mins, ds, acc[r][t]);
      }
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[(t0 + t) * y_stride + r0 + r] = ReduceAdd(acc[r][t]);
}

// ---------------------------------------------------------------------------------------
// Tiling (kernels/tile_walk.h): tiles of up to 4 rows x 4 tokens; with only 16 ymm
// registers, prefill uses 2-row tiles.

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
                                                n_tokens, w.row_bytes, n_tokens == 1 ? 4 : 2);
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
                                            x.n_tokens, w.row_bytes, x.n_tokens == 1 ? 4 : 2);
}

// The tiles keep one accumulator per (row, token), summed in the same order for every tile
// shape: all kernels are row-exact (kernels/kernel_table.h), no row_exact twins needed.
constexpr KernelTable kTable = {
    FloatRows<DType::kF32>,
    FloatRows<DType::kF16>,
    FloatRows<DType::kBF16>,
    {QuantRows<Q8_0Decoder>, Q8_0Decoder::kOffset},
    {QuantRows<Q4_0Decoder>, Q4_0Decoder::kOffset},
    {QuantRows<Q4_KDecoder>, Q4_KDecoder::kOffset},
    {QuantRows<Q5_KDecoder>, Q5_KDecoder::kOffset},
    {QuantRows<Q6_KDecoder>, Q6_KDecoder::kOffset},
    {nullptr, 0},  // row-panel matrices: MatMul falls back to the scalar twins
    {nullptr, 0},
    nullptr,
    {nullptr, 0},
    {nullptr, 0},
    {nullptr, 0},
};

}  // namespace
}  // namespace avx2

const KernelTable& Avx2Kernels() { return avx2::kTable; }

}  // namespace ember
