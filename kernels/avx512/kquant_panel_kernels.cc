// Row-panel kernels for the K-quants Q4_K, Q5_K and Q6_K (kernels/row_panels.h has the
// layout: super-blocks of 16 rows transposed by dwords).
//
// Decode (1-3 tokens) reads a panel front to back. Each 64-byte quant vector holds the same
// 4 file bytes of 16 rows, so the weight bytes vpdpbusd wants (4 consecutive values x 16
// rows) come out with masks and shifts only: Q4_K takes the low nibbles as they are and the
// high nibbles in place (16 x the value; the scale for those sub-blocks is divided by 16,
// which is exact), Q5_K and Q6_K merge their high bits in with one ternary-logic op. Each
// 32-value sub-block (Q6_K: 16) sums into one int32 vector per token, then one convert and
// two float ops apply the activation scale and the 16 rows' sub-block scales (one more the
// min), which unpack from the 6-bit / 8-bit integers once per super-block for all tokens.
//
// Prefill (more tokens) unpacks 32 rows at a time into plain unsigned bytes plus float
// scales (and mins) per 32-value block, which a 32-row x 6-token register tile reuses for
// every token, as int8_panel_gemm.cc does for Q8_0 / Q4_0.
//
// Like matmul_kernels.cc this file must not use library templates or external-linkage
// inline functions: the linker could give their AVX-512 copies to baseline callers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "kernels/avx512/lanes.h"
#include "kernels/avx512/row_panel_kernels.h"
#include "kernels/row_panels.h"

namespace ember {
namespace avx512 {
namespace {

constexpr int kTernaryAOrBAndC = 0xF8;  // vpternlog immediate for A | (B & C)

// A compile-time int for the generic lambdas below (sub-block indices pick shift counts).
template <int N>
struct Int {
  static constexpr int value = N;
};

// Q6_K decode asks for each line 2 KiB ahead: from DRAM that takes one thread from ~8.5
// to ~12.5 GB/s (measured 1024-4096 ahead; Q4_K gains nothing from it).
constexpr int64_t kQ6PrefetchBytes = 2048;


inline __m512i Load(const uint8_t* p) { return _mm512_load_si512(p); }

// Byte k of each dword lane as an unsigned / signed int32.
template <int k>
inline __m512 UnsignedByte(__m512i v) {
  if constexpr (k == 3) return _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 24));
  return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, 8 * k), _mm512_set1_epi32(0xFF)));
}
template <int k>
inline __m512 SignedByte(__m512i v) {
  return _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * k), 24));
}

// ---------------------------------------------------------------------------------------
// Q4_K / Q5_K super-block slices: vector 0 d|dmin, 1-3 the 12 scale bytes, then (Q5_K) 8 qh
// vectors and 32 qs vectors; qs vector 8c + v holds qs[32c + 4v + k], i.e. values
// 64c + 4v + k (low nibble, sub-block 2c) and 64c + 32 + 4v + k (high nibble, 2c + 1).

// The 16 rows' super-block scales, unpacked as in UnpackScalesMinsK but a row per lane:
// byte j of sc_lo / m_lo is sub-block j's 6-bit scale / min, byte j of sc_hi / m_hi
// sub-block 4 + j's.
struct Q45KScales {
  __m512 d, dmin;
  __m512 d_over_16;  // for Q4_K's high nibbles, which vpdpbusd sees as 16 x the value
  __m512i sc_lo, sc_hi, m_lo, m_hi;
};

inline Q45KScales LoadQ45KScales(const uint8_t* slice) {
  Q45KScales k;
  const __m512i dm = Load(slice);
  k.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
  k.dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
  k.d_over_16 = _mm512_mul_ps(k.d, _mm512_set1_ps(1.0f / 16));  // exact: a power of two
  const __m512i s0 = Load(slice + 64), s1 = Load(slice + 128), s2 = Load(slice + 192);
  const __m512i low6 = _mm512_set1_epi8(0x3F), low4 = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
  k.sc_lo = _mm512_and_si512(s0, low6);
  k.m_lo = _mm512_and_si512(s1, low6);
  k.sc_hi = _mm512_ternarylogic_epi32(_mm512_and_si512(s2, low4), _mm512_srli_epi32(s0, 2), top2, kTernaryAOrBAndC);
  k.m_hi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi32(s2, 4), low4), _mm512_srli_epi32(s1, 2),
                                     top2, kTernaryAOrBAndC);
  return k;
}

// Sub-blocks 2c and 2c + 1: scales d * sc (the second over 16 when kHighTimes16) and mins
// dmin * m, a row per lane.
template <int c, bool kHighTimes16>
inline void ChunkScales(const Q45KScales& k, __m512* sa, __m512* sb, __m512* ma, __m512* mb) {
  const __m512i sc = c < 2 ? k.sc_lo : k.sc_hi, m = c < 2 ? k.m_lo : k.m_hi;
  constexpr int j = 2 * c % 4;
  *sa = _mm512_mul_ps(k.d, UnsignedByte<j>(sc));
  *sb = _mm512_mul_ps(kHighTimes16 ? k.d_over_16 : k.d, UnsignedByte<j + 1>(sc));
  *ma = _mm512_mul_ps(k.dmin, UnsignedByte<j>(m));
  *mb = _mm512_mul_ps(k.dmin, UnsignedByte<j + 1>(m));
}

// Weight bytes of values 64c + 4v + k (lo) and 64c + 32 + 4v + k (hi) for 16 rows. Q4_K's hi
// is 16 x the value (the nibble left in place); Q5_K's are exact.
template <bool kQ5, int c>
inline void Q45KWeights(const uint8_t* slice, int v, __m512i* lo, __m512i* hi) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i raw = Load(slice + (kQ5 ? 12 : 4) * 64 + 64 * (8 * c + v));
  if constexpr (!kQ5) {
    *lo = _mm512_and_si512(raw, low4);
    *hi = _mm512_andnot_si512(low4, raw);
  } else {
    // Fifth bits: bit 2c of qh[4v + k] for lo, bit 2c + 1 for hi, moved to bit 4 (shifts
    // within a byte, so the epi32 shifts move nothing across bytes that the mask keeps).
    const __m512i qh = Load(slice + 4 * 64 + 64 * v);
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    __m512i h_lo, h_hi;
    if constexpr (c < 2) {
      h_lo = _mm512_slli_epi32(qh, 4 - 2 * c);
      h_hi = _mm512_slli_epi32(qh, 3 - 2 * c);
    } else {
      h_lo = _mm512_srli_epi32(qh, 2 * c - 4);
      h_hi = _mm512_srli_epi32(qh, 2 * c - 3);
    }
    *lo = _mm512_ternarylogic_epi32(_mm512_and_si512(raw, low4), h_lo, bit4, kTernaryAOrBAndC);
    *hi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi32(raw, 4), low4), h_hi, bit4,
                                    kTernaryAOrBAndC);
  }
}

// ---------------------------------------------------------------------------------------
// Q6_K super-block slices: ql vectors 0-31, qh 32-47, scales 48-51 (d in the panel head).
// For half h and v in 0..7, ql vectors a = 16h + v, b = 16h + 8 + v and qh vector 32 + 8h + v
// give values 128h + 32e + 4v + k for e = 0..3 (file layout: low nibbles of a, b, then
// high nibbles, with qh bit pairs 0-1, 2-3, 4-5, 6-7 on top).
inline void Q6KWeights(const uint8_t* slice, int h, int v, __m512i out[4]) {
  const __m512i a = Load(slice + 64 * (16 * h + v)), b = Load(slice + 64 * (16 * h + 8 + v));
  const __m512i qh = Load(slice + 64 * (32 + 8 * h + v));
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  out[0] = _mm512_ternarylogic_epi32(_mm512_and_si512(a, low4), _mm512_slli_epi32(qh, 4), bits45, kTernaryAOrBAndC);
  out[1] = _mm512_ternarylogic_epi32(_mm512_and_si512(b, low4), _mm512_slli_epi32(qh, 2), bits45, kTernaryAOrBAndC);
  out[2] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi32(a, 4), low4), qh, bits45, kTernaryAOrBAndC);
  out[3] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi32(b, 4), low4), _mm512_srli_epi32(qh, 2),
                                     bits45, kTernaryAOrBAndC);
}

// d * scales[j] of the 16 rows: scale byte j is byte j % 4 of scale vector 48 + j / 4.
template <int k>
inline __m512 Q6KScale(const uint8_t* slice, int j4, __m512 d) {
  return _mm512_mul_ps(d, SignedByte<k>(Load(slice + 64 * (48 + j4))));
}

inline __m512 Q6KD(const uint8_t* panel, int64_t s) {
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel + 32 * s)));
}

// ---------------------------------------------------------------------------------------
// Decode: T tokens over the panels holding rows [row_begin, row_end).

template <bool kQ5, int T>
void Q45KPanelRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
                   int64_t y_stride) {
  const int64_t ns = w.cols / 256, nb = x.n_blocks;
  const int64_t stride = PanelStride(w.type, w.cols), slice_bytes = PanelSliceBytes(w.type);
  const int8_t* xq[T];
  const float* xd[T];
  const float* xs[T];
  #pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
    xq[t] = x.q + t * x.cols;
    xd[t] = x.d + t * nb;
    xs[t] = x.dsum + t * nb;
  }
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kRowPanelHeight) {
    const uint8_t* panel = static_cast<const uint8_t*>(w.data) + (r0 / kRowPanelHeight) * stride;
    __m512 acc[T];
    #pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t s = 0; s < ns; ++s) {
      const uint8_t* slice = panel + s * slice_bytes;
      const Q45KScales k = LoadQ45KScales(slice);
      auto chunk = [&](auto c_tag) {
        constexpr int c = decltype(c_tag)::value;
        __m512i ia[T], ib[T];
        #pragma GCC unroll 4
        for (int t = 0; t < T; ++t) ia[t] = ib[t] = _mm512_setzero_si512();  // weight offset 0
        #pragma GCC unroll 8
        for (int v = 0; v < 8; ++v) {
          __m512i lo, hi;
          Q45KWeights<kQ5, c>(slice, v, &lo, &hi);
          #pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const int8_t* xo = xq[t] + 256 * s + 64 * c + 4 * v;
            ia[t] = _mm512_dpbusd_epi32(ia[t], lo, Broadcast4(xo));
            ib[t] = _mm512_dpbusd_epi32(ib[t], hi, Broadcast4(xo + 32));
          }
        }
        __m512 sa, sb, ma, mb;
        ChunkScales<c, !kQ5>(k, &sa, &sb, &ma, &mb);
        const int64_t b = 8 * s + 2 * c;
        #pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(ia[t]), _mm512_set1_ps(xd[t][b])), sa, acc[t]);
          acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(ib[t]), _mm512_set1_ps(xd[t][b + 1])), sb, acc[t]);
          acc[t] = _mm512_fnmadd_ps(ma, _mm512_set1_ps(xs[t][b]), acc[t]);
          acc[t] = _mm512_fnmadd_ps(mb, _mm512_set1_ps(xs[t][b + 1]), acc[t]);
        }
      };
      chunk(Int<0>());
      chunk(Int<1>());
      chunk(Int<2>());
      chunk(Int<3>());
    }
    const __mmask16 m = RowMask(row_end - r0);
    #pragma GCC unroll 4
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + r0, m, acc[t]);
  }
}

template <int T>
void Q6KPanelRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
                  int64_t y_stride) {
  const int64_t ns = w.cols / 256, nb = x.n_blocks;
  const int64_t stride = PanelStride(w.type, w.cols), head = PanelHeadBytes(w.type, w.cols);
  const int64_t slice_bytes = PanelSliceBytes(w.type);
  const int8_t* xq[T];
  const float* xd[T];
  const int32_t* xb[T];
  #pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
    xq[t] = x.q + t * x.cols;
    xd[t] = x.d + t * nb;
    xb[t] = x.bias8 + t * 8 * nb;
  }
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kRowPanelHeight) {
    const uint8_t* panel = static_cast<const uint8_t*>(w.data) + (r0 / kRowPanelHeight) * stride;
    __m512 acc[T];
    #pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t s = 0; s < ns; ++s) {
      const uint8_t* slice = panel + head + s * slice_bytes;
      const __m512 d = Q6KD(panel, s);
      // Quarter q of half h: v = 4q .. 4q + 3 covers 16-value sub-blocks 8h + 2e + q.
      auto quarter = [&](auto h_tag, auto q_tag) {
        constexpr int h = decltype(h_tag)::value, q = decltype(q_tag)::value;
        __m512i acc_i[4][T];
        #pragma GCC unroll 4
        for (int e = 0; e < 4; ++e)
          #pragma GCC unroll 4
          for (int t = 0; t < T; ++t) acc_i[e][t] = _mm512_set1_epi32(xb[t][8 * (8 * s + 4 * h + e) + 4 * q]);
        #pragma GCC unroll 4
        for (int v = 4 * q; v < 4 * q + 4; ++v) {
          const char* ahead = reinterpret_cast<const char*>(slice + kQ6PrefetchBytes);
          _mm_prefetch(ahead + 64 * (16 * h + v), _MM_HINT_T0);  // the three vectors loaded next
          _mm_prefetch(ahead + 64 * (16 * h + 8 + v), _MM_HINT_T0);
          _mm_prefetch(ahead + 64 * (32 + 8 * h + v), _MM_HINT_T0);
          if (h == 1 && v < 4) _mm_prefetch(ahead + 64 * (48 + v), _MM_HINT_T0);  // scales
          __m512i wv[4];
          Q6KWeights(slice, h, v, wv);
          #pragma GCC unroll 4
          for (int e = 0; e < 4; ++e)
            #pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
              const int8_t* xo = xq[t] + 256 * s + 128 * h + 32 * e + 4 * v;
              acc_i[e][t] = _mm512_dpbusd_epi32(acc_i[e][t], wv[e], Broadcast4(xo));
            }
        }
        // Sub-block 8h + 2e + q: scale vector 2h + e / 2, byte 2 (e % 2) + q.
        const __m512 sc[4] = {Q6KScale<q>(slice, 2 * h, d), Q6KScale<2 + q>(slice, 2 * h, d),
                              Q6KScale<q>(slice, 2 * h + 1, d), Q6KScale<2 + q>(slice, 2 * h + 1, d)};
        #pragma GCC unroll 4
        for (int e = 0; e < 4; ++e)
          #pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const __m512 dx = _mm512_set1_ps(xd[t][8 * s + 4 * h + e]);
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc_i[e][t]), dx), sc[e], acc[t]);
          }
      };
      quarter(Int<0>(), Int<0>());
      quarter(Int<0>(), Int<1>());
      quarter(Int<1>(), Int<0>());
      quarter(Int<1>(), Int<1>());
    }
    const __mmask16 m = RowMask(row_end - r0);
    #pragma GCC unroll 4
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + r0, m, acc[t]);
  }
}

// ---------------------------------------------------------------------------------------
// Prefill. The unpacked 32-row panel, per 32-value block b: bytes [8 groups][32 rows][4
// values] of unsigned weights, then (after all blocks) kHalves x 32 float scales per block
// (Q6_K's two 16-value halves) and, for Q4_K / Q5_K, 32 float mins per block.

constexpr int kPanelRows = 32;
constexpr int kTileTokens = 6;  // 2 x 6 int32 + 2 x 6 float accumulators: 24 of 32 zmm
constexpr int kBlockBytes = 8 * kPanelRows * 4;
constexpr int64_t kChunkBlocks = 24;  // a chunk's weights (24 KiB) stay in L1 across token tiles

struct Unpacked {
  uint8_t* w;  // nb x kBlockBytes
  float* s;    // nb x kHalves x 32
  float* m;    // nb x 32 (Q4_K, Q5_K)
};

// Group g of block b, rows of 16-row half `v`.
inline uint8_t* GroupAt(const Unpacked& u, int64_t b, int g, int v) { return u.w + b * kBlockBytes + g * 128 + 64 * v; }

template <bool kQ5>
struct Q45KUnpacker {
  static constexpr int kHalves = 1;
  static constexpr bool kMins = true;
  static void Unpack(const WeightMatrix& w, int64_t panel_index, int v, const Unpacked& u) {
    const int64_t ns = w.cols / 256, slice_bytes = PanelSliceBytes(w.type);
    const uint8_t* panel = static_cast<const uint8_t*>(w.data) + panel_index * PanelStride(w.type, w.cols);
    for (int64_t s = 0; s < ns; ++s) {
      const uint8_t* slice = panel + s * slice_bytes;
      const Q45KScales k = LoadQ45KScales(slice);
      auto chunk = [&](auto c_tag) {
        constexpr int c = decltype(c_tag)::value;
        const int64_t b = 8 * s + 2 * c;
        for (int g = 0; g < 8; ++g) {
          __m512i lo, hi;
          Q45KWeights<kQ5, c>(slice, g, &lo, &hi);
          _mm512_store_si512(GroupAt(u, b, g, v), lo);
          _mm512_store_si512(GroupAt(u, b + 1, g, v), hi);
        }
        __m512 sa, sb, ma, mb;
        ChunkScales<c, !kQ5>(k, &sa, &sb, &ma, &mb);
        _mm512_store_ps(u.s + 32 * b + 16 * v, sa);
        _mm512_store_ps(u.s + 32 * (b + 1) + 16 * v, sb);
        _mm512_store_ps(u.m + 32 * b + 16 * v, ma);
        _mm512_store_ps(u.m + 32 * (b + 1) + 16 * v, mb);
      };
      chunk(Int<0>());
      chunk(Int<1>());
      chunk(Int<2>());
      chunk(Int<3>());
    }
  }
};

struct Q6KUnpacker {
  static constexpr int kHalves = 2;
  static constexpr bool kMins = false;
  static void Unpack(const WeightMatrix& w, int64_t panel_index, int v, const Unpacked& u) {
    const int64_t ns = w.cols / 256, slice_bytes = PanelSliceBytes(w.type);
    const uint8_t* panel = static_cast<const uint8_t*>(w.data) + panel_index * PanelStride(w.type, w.cols);
    const uint8_t* slices = panel + PanelHeadBytes(w.type, w.cols);
    for (int64_t s = 0; s < ns; ++s) {
      const uint8_t* slice = slices + s * slice_bytes;
      for (int h = 0; h < 2; ++h) {
        for (int g = 0; g < 8; ++g) {
          __m512i wv[4];
          Q6KWeights(slice, h, g, wv);
          for (int e = 0; e < 4; ++e) _mm512_store_si512(GroupAt(u, 8 * s + 4 * h + e, g, v), wv[e]);
        }
      }
      // Sub-block j (16 values) is half j % 2 of block 8s + j / 2.
      const __m512 d = Q6KD(panel, s);
      for (int j4 = 0; j4 < 4; ++j4) {
        const __m512 sc[4] = {Q6KScale<0>(slice, j4, d), Q6KScale<1>(slice, j4, d), Q6KScale<2>(slice, j4, d),
                              Q6KScale<3>(slice, j4, d)};
        for (int k = 0; k < 4; ++k) {
          const int j = 4 * j4 + k;
          _mm512_store_ps(u.s + 32 * (2 * (8 * s + j / 2) + j % 2) + 16 * v, sc[k]);
        }
      }
    }
  }
};

// y rows [r0, r0 + 32) x tokens [t0, t0 + T), blocks [b0, b1) of the unpacked panel.
// `first` starts each sum at zero; later chunks resume the sums earlier chunks stored.
//
// Row exactness (kernels/kernel_table.h): per (row, token) the float operations are the
// decode kernels' above, in their order, in one chain across chunks. The decode kernels walk
// a super-block in groups of kGroupBlocks 32-value blocks: Q4_K / Q5_K take a pair's two
// scaled sums, then its two mins; Q6_K takes four blocks' first 16-value halves, then their
// second halves. b0 and b1 are multiples of 8 (whole super-blocks), so groups never straddle
// a chunk.
template <int kHalves, bool kMins, int T>
void KTile(const Unpacked& u, int64_t b0, int64_t b1, const Q8ActivationsView& x, int64_t t0, float* y,
           int64_t y_stride, __mmask16 m0, __mmask16 m1, bool first) {
  const int64_t nb = x.n_blocks;
  const int8_t* xq[T];
  const float* xd[T];
  const float* xs[T];
  const int32_t* xb[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = x.q + (t0 + t) * x.cols;
    xd[t] = x.d + (t0 + t) * nb;
    xs[t] = x.dsum + (t0 + t) * nb;
    xb[t] = x.bias8 + (t0 + t) * 8 * nb;
  }
  constexpr int kGroupBlocks = kHalves == 2 ? 4 : 2;
  __m512 acc0[T], acc1[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    float* yt = y + (t0 + t) * y_stride;
    acc0[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m0, yt);
    acc1[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m1, yt + 16);
  }
  for (int64_t bg = b0; bg < b1; bg += kGroupBlocks) {
    #pragma GCC unroll 2
    for (int half = 0; half < kHalves; ++half) {
      #pragma GCC unroll 1
      for (int64_t b = bg; b < bg + kGroupBlocks; ++b) {
        const uint8_t* wb = u.w + b * kBlockBytes;
        __m512i i0[T], i1[T];
        #pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          // Q6_K: -32 * sum(q_x) of the 16-value half; Q4_K / Q5_K have no weight offset.
          i0[t] = i1[t] = kHalves == 2 ? _mm512_set1_epi32(xb[t][8 * b + 4 * half]) : _mm512_setzero_si512();
        }
        #pragma GCC unroll 8
        for (int g = half * 8 / kHalves; g < (half + 1) * 8 / kHalves; ++g) {
          const __m512i w0 = _mm512_load_si512(wb + g * 128);
          const __m512i w1 = _mm512_load_si512(wb + g * 128 + 64);
          #pragma GCC unroll 8
          for (int t = 0; t < T; ++t) {
            const __m512i xv = Broadcast4(xq[t] + 32 * b + 4 * g);
            i0[t] = _mm512_dpbusd_epi32(i0[t], w0, xv);
            i1[t] = _mm512_dpbusd_epi32(i1[t], w1, xv);
          }
        }
        const float* sp = u.s + 32 * (kHalves * b + half);
        const __m512 s0 = _mm512_load_ps(sp), s1 = _mm512_load_ps(sp + 16);
        #pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          const __m512 d = _mm512_set1_ps(xd[t][b]);
          acc0[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(i0[t]), d), s0, acc0[t]);
          acc1[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(i1[t]), d), s1, acc1[t]);
        }
      }
    }
    if constexpr (kMins) {
      #pragma GCC unroll 2
      for (int64_t b = bg; b < bg + kGroupBlocks; ++b) {
        const __m512 mn0 = _mm512_load_ps(u.m + 32 * b), mn1 = _mm512_load_ps(u.m + 32 * b + 16);
        #pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          const __m512 ds = _mm512_set1_ps(xs[t][b]);
          acc0[t] = _mm512_fnmadd_ps(mn0, ds, acc0[t]);
          acc1[t] = _mm512_fnmadd_ps(mn1, ds, acc1[t]);
        }
      }
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    float* yt = y + (t0 + t) * y_stride;
    _mm512_mask_storeu_ps(yt, m0, acc0[t]);
    _mm512_mask_storeu_ps(yt + 16, m1, acc1[t]);
  }
}

template <class U>
void KQuantPanelGemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
                     int64_t y_stride) {
  using TileFn = void (*)(const Unpacked&, int64_t, int64_t, const Q8ActivationsView&, int64_t, float*, int64_t,
                          __mmask16, __mmask16, bool);
  constexpr TileFn kTiles[kTileTokens + 1] = {
      nullptr,
      KTile<U::kHalves, U::kMins, 1>,
      KTile<U::kHalves, U::kMins, 2>,
      KTile<U::kHalves, U::kMins, 3>,
      KTile<U::kHalves, U::kMins, 4>,
      KTile<U::kHalves, U::kMins, 5>,
      KTile<U::kHalves, U::kMins, 6>};
  static thread_local AlignedScratch buffer;
  const int64_t nb = x.n_blocks;
  const int64_t scale_floats = nb * 32 * U::kHalves, min_floats = U::kMins ? nb * 32 : 0;
  uint8_t* mem = buffer.Get(static_cast<size_t>(nb * kBlockBytes + (scale_floats + min_floats) * 4));
  Unpacked u{mem, reinterpret_cast<float*>(mem + nb * kBlockBytes), nullptr};
  u.m = u.s + scale_floats;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int64_t n_rows = Min(kPanelRows, row_end - r0);
    U::Unpack(w, r0 / kRowPanelHeight, 0, u);
    if (n_rows > 16) {
      U::Unpack(w, r0 / kRowPanelHeight + 1, 1, u);
    } else {  // no second panel: zero rows
      for (int64_t b = 0; b < nb; ++b) {
        for (int g = 0; g < 8; ++g) _mm512_store_si512(GroupAt(u, b, g, 1), _mm512_setzero_si512());
        for (int half = 0; half < U::kHalves; ++half) {
          _mm512_store_ps(u.s + 32 * (U::kHalves * b + half) + 16, _mm512_setzero_ps());
        }
        if (U::kMins) _mm512_store_ps(u.m + 32 * b + 16, _mm512_setzero_ps());
      }
    }
    const __mmask16 m0 = RowMask(n_rows), m1 = RowMask(n_rows - 16);
    for (int64_t b0 = 0; b0 < nb; b0 += kChunkBlocks) {
      const int64_t b1 = Min(nb, b0 + kChunkBlocks);
      for (int64_t t0 = 0; t0 < x.n_tokens; t0 += kTileTokens) {
        const int nt = static_cast<int>(Min(kTileTokens, x.n_tokens - t0));
        kTiles[nt](u, b0, b1, x, t0, y + r0, y_stride, m0, m1, b0 == 0);
      }
    }
  }
}

// Up to kStreamMaxTokens tokens (decode, batched decode, short inputs) stream the panels in
// groups of up to 3 tokens (Q6_K's 4 x T int32 sub-block sums already fill most registers at
// T = 3); more unpack 32 rows at a time for the token-tiled GEMM. Both give each token the
// one-token arithmetic (row exactness, kernels/kernel_table.h).
constexpr int kStreamMaxTokens = 8;

template <bool kQ5>
void Q45KRowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x, float* y,
                   int64_t y_stride) {
  static constexpr TokenCountKernel kByCount[] = {nullptr, Q45KPanelRows<kQ5, 1>, Q45KPanelRows<kQ5, 2>,
                                                  Q45KPanelRows<kQ5, 3>};
  if (x.n_tokens > kStreamMaxTokens) {
    KQuantPanelGemm<Q45KUnpacker<kQ5>>(w, row_begin, row_end, x, y, y_stride);
  } else {
    ForTokenGroups(w, row_begin, row_end, x, y, y_stride, 3, kByCount);
  }
}

}  // namespace

void Q4_KRowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  Q45KRowPanels<false>(w, row_begin, row_end, x, y, y_stride);
}

void Q5_KRowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  Q45KRowPanels<true>(w, row_begin, row_end, x, y, y_stride);
}

void Q6_KRowPanels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                   float* y, int64_t y_stride) {
  static constexpr TokenCountKernel kByCount[] = {nullptr, Q6KPanelRows<1>, Q6KPanelRows<2>, Q6KPanelRows<3>};
  if (x.n_tokens > kStreamMaxTokens) {
    KQuantPanelGemm<Q6KUnpacker>(w, row_begin, row_end, x, y, y_stride);
  } else {
    ForTokenGroups(w, row_begin, row_end, x, y, y_stride, 3, kByCount);
  }
}

// Every panel byte is written: gathered dwords (zero for rows past the end), Q6_K's d into
// the zero-padded head.
void PackKQuantRowPanels(const WeightMatrix& src, int64_t panel_begin, int64_t panel_end, uint8_t* dst) {
  if (src.row_bytes > (int64_t{1} << 31) / 16) {  // gather offsets are int32
    scalar::PackRowPanels(src, panel_begin, panel_end, dst);
    return;
  }
  const bool q6 = src.type == DType::kQ6_K;
  const int64_t ns = src.cols / 256, block_bytes = src.row_bytes / ns;
  const int64_t stride = PanelStride(src.type, src.cols), head = PanelHeadBytes(src.type, src.cols);
  const int64_t slice_bytes = PanelSliceBytes(src.type);
  const int dwords = KQuantPanelDwords(src.type);
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    uint8_t* panel = dst + p * stride;
    const int64_t row0 = p * kRowPanelHeight;
    const __mmask16 m = RowMask(src.rows - row0);
    const uint8_t* rows = static_cast<const uint8_t*>(src.data) + row0 * src.row_bytes;
    if (q6) std::memset(panel + ns * 32, 0, static_cast<size_t>(head - ns * 32));
    for (int64_t s = 0; s < ns; ++s) {
      const uint8_t* blk = rows + s * block_bytes;
      uint8_t* slice = panel + head + s * slice_bytes;
      for (int i = 0; i < dwords; ++i) _mm512_store_si512(slice + 64 * i, GatherRows(blk + 4 * i, src.row_bytes, m));
      if (q6) {  // d is the block's last 2 bytes: gather the dword ending there
        const __m512i d = _mm512_srli_epi32(GatherRows(blk + 4 * dwords - 2, src.row_bytes, m), 16);
        _mm256_store_si256(reinterpret_cast<__m256i*>(panel + 32 * s), _mm512_cvtepi32_epi16(d));
      }
    }
  }
}

}  // namespace avx512
}  // namespace ember
