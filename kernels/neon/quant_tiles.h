// The quantized-weight row kernels of both ARM64 kernel sets: kernels/neon (baseline
// armv8-a, int8 dot products from vmull_s8 / vmlal_s8 / vpadalq_s16) and kernels/neon_dotprod
// (armv8.2-a+dotprod, vdotq_s32). Each translation unit includes this header with its own
// -march flags and supplies its own `Dot` (how 16 or 32 int8 weights meet as many int8
// activations, below); everything here has internal linkage, for the reason
// kernels/tile_walk.h gives.
//
// Weights are decoded to int8 codes u = w + o, w the values kernels/scalar/decode_row.cc
// defines and o the type's offset (kOffset, the table's weight_offset): the raw codes of
// Q4_0 (o = 8) and Q6_K (o = 32), saving the subtraction per weight; Q8_0, Q4_K and Q5_K
// have o = 0. The int8 dot products of ARM are signed x signed, and |u| <= 128, |q_x| <= 127
// keep every partial sum in range (see Dot), so a dot product that starts from the
// activations' bias lanes (-o * the sum of q_x per 16 values, q8_activations.h) ends at
// sum(w * q_x) exactly. Per 32-value block, the int32 lanes are converted to float once and
// scaled by weight scale * activation scale (one lane of a vector holding that product for
// 4 consecutive blocks); Q6_K first combines its two 16-value halves with their integer
// scales in int32, exactly. K-quant mins subtract min * d_x * sum(q_x) once per super-block,
// before its blocks.
//
// Register tiles keep one float accumulator per (row, token) and apply every block to it in
// the same order for every tile shape: the kernels are row-exact (kernels/kernel_table.h).
#ifndef EMBER_KERNELS_NEON_QUANT_TILES_H_
#define EMBER_KERNELS_NEON_QUANT_TILES_H_

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/kernel_table.h"
#include "kernels/tile_walk.h"

namespace ember {
namespace {
namespace neon_tiles {

// fp16 -> float with the hardware conversion (fp16.h's helpers have external linkage).
inline float HalfToFloat(const uint8_t* p) {
  __fp16 h;
  std::memcpy(&h, p, 2);
  return static_cast<float>(h);
}

// The fp16 scales at first, first + stride, ... of n (1..4) consecutive blocks as float
// lanes; lanes past n are 0. Each is read into its lane directly (memcpy: blocks need not
// be aligned).
inline float32x4_t BlockScales4(const uint8_t* first, int stride, int n) {
  uint16x4_t h = vdup_n_u16(0);
  uint16_t v;
  std::memcpy(&v, first, 2);
  h = vset_lane_u16(v, h, 0);
  if (n > 1) {
    std::memcpy(&v, first + stride, 2);
    h = vset_lane_u16(v, h, 1);
  }
  if (n > 2) {
    std::memcpy(&v, first + 2 * stride, 2);
    h = vset_lane_u16(v, h, 2);
  }
  if (n > 3) {
    std::memcpy(&v, first + 3 * stride, 2);
    h = vset_lane_u16(v, h, 3);
  }
  return vcvt_f32_f16(vreinterpret_f16_u16(h));
}

// n (1..4) floats from p, zeros past n: the activation scales of a partial group of blocks
// without reading past the token's row.
inline float32x4_t LoadFloats4(const float* p, int n) {
  if (n >= 4) return vld1q_f32(p);
  float v[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int i = 0; i < n; ++i) v[i] = p[i];
  return vld1q_f32(v);
}

// acc + v * s[lane]; lane is a constant once the block loop is unrolled.
inline float32x4_t FmaLane(float32x4_t acc, float32x4_t v, float32x4_t s, int lane) {
  switch (lane) {
    case 0: return vfmaq_laneq_f32(acc, v, s, 0);
    case 1: return vfmaq_laneq_f32(acc, v, s, 1);
    case 2: return vfmaq_laneq_f32(acc, v, s, 2);
    default: return vfmaq_laneq_f32(acc, v, s, 3);
  }
}

// One 32-value block of a row: codes u of values 0-15 and 16-31, and (Q6_K) the integer
// scales of the two 16-value halves, as lanes scale_lane and scale_lane + 1 of scales4 (the
// scales of a pair of blocks, so that the integer multiplies take them by lane).
struct BlockWeights {
  int8x16_t lo, hi;
  int32x4_t scales4;
  int scale_lane;
};

// ---------------------------------------------------------------------------------------
// Decoders. A row is walked in groups of kGroupBlocks blocks (4 for Q8_0 / Q4_0, the last
// group possibly partial; one super-block of 8 for the K-quants). Prepare reads a group's
// scales: scale[q] lane i is the float weight scale of block 4 q + i of the group (d for
// Q6_K, whose blocks' integer half scales come with BlockWeights), mins[q] likewise the
// K-quant mins. Load decodes block j of the group. kMaxAbsCode bounds |u|.

struct Q8_0Decoder {
  static constexpr int kGroupBlocks = 4, kOffset = 0, kMaxAbsCode = 128;
  static constexpr bool kPartialGroups = true, kHasMins = false, kScalesPer16 = false;
  struct State {
    const uint8_t* blk;
    float32x4_t scale[1], mins[1];
  };
  static void Prepare(const uint8_t* row, int64_t b0, int n, State* st) {
    st->blk = row + b0 * sizeof(BlockQ8_0);
    st->scale[0] = BlockScales4(st->blk, sizeof(BlockQ8_0), n);
  }
  static BlockWeights Load(const State& st, int j) {
    const auto* q = reinterpret_cast<const int8_t*>(st.blk + j * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs));
    return {vld1q_s8(q), vld1q_s8(q + 16), vdupq_n_s32(0), 0};
  }
};

struct Q4_0Decoder {
  static constexpr int kGroupBlocks = 4, kOffset = 8, kMaxAbsCode = 15;
  static constexpr bool kPartialGroups = true, kHasMins = false, kScalesPer16 = false;
  struct State {
    const uint8_t* blk;
    float32x4_t scale[1], mins[1];
  };
  static void Prepare(const uint8_t* row, int64_t b0, int n, State* st) {
    st->blk = row + b0 * sizeof(BlockQ4_0);
    st->scale[0] = BlockScales4(st->blk, sizeof(BlockQ4_0), n);
  }
  // Low nibbles are values 0-15, high nibbles 16-31.
  static BlockWeights Load(const State& st, int j) {
    const uint8x16_t q = vld1q_u8(st.blk + j * sizeof(BlockQ4_0) + offsetof(BlockQ4_0, qs));
    return {vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), vreinterpretq_s8_u8(vshrq_n_u8(q, 4)),
            vdupq_n_s32(0), 0};
  }
};

// Q4_K / Q5_K: d * sc and dmin * m of the eight sub-blocks (= blocks), as two quads each.
inline void PrepareScalesMinsK(const uint8_t* blk, const uint8_t* scales, float32x4_t scale[2],
                               float32x4_t mins[2]) {
  uint8_t sc[8], m[8];
  UnpackScalesMinsK(scales, sc, m);
  const float d = HalfToFloat(blk), dmin = HalfToFloat(blk + 2);
  const uint16x8_t sc16 = vmovl_u8(vld1_u8(sc)), m16 = vmovl_u8(vld1_u8(m));
  scale[0] = vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(sc16))), d);
  scale[1] = vmulq_n_f32(vcvtq_f32_u32(vmovl_high_u16(sc16)), d);
  mins[0] = vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(m16))), dmin);
  mins[1] = vmulq_n_f32(vcvtq_f32_u32(vmovl_high_u16(m16)), dmin);
}

// Block j of a Q4_K / Q5_K super-block: 64-value chunk j / 2 of qs, low nibbles for even
// j, high nibbles for odd j.
inline void NibblesK(const uint8_t* qs, int j, uint8x16_t* lo, uint8x16_t* hi) {
  const uint8x16_t a = vld1q_u8(qs + 32 * (j / 2)), b = vld1q_u8(qs + 32 * (j / 2) + 16);
  if (j % 2 == 0) {
    const uint8x16_t mask = vdupq_n_u8(0x0F);
    *lo = vandq_u8(a, mask);
    *hi = vandq_u8(b, mask);
  } else {
    *lo = vshrq_n_u8(a, 4);
    *hi = vshrq_n_u8(b, 4);
  }
}

struct Q4_KDecoder {
  static constexpr int kGroupBlocks = 8, kOffset = 0, kMaxAbsCode = 15;
  static constexpr bool kPartialGroups = false, kHasMins = true, kScalesPer16 = false;
  struct State {
    const uint8_t* qs;
    float32x4_t scale[2], mins[2];
  };
  static void Prepare(const uint8_t* row, int64_t b0, int, State* st) {
    const uint8_t* blk = row + b0 / 8 * sizeof(BlockQ4_K);
    st->qs = blk + offsetof(BlockQ4_K, qs);
    PrepareScalesMinsK(blk, blk + offsetof(BlockQ4_K, scales), st->scale, st->mins);
  }
  static BlockWeights Load(const State& st, int j) {
    uint8x16_t lo, hi;
    NibblesK(st.qs, j, &lo, &hi);
    return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), vdupq_n_s32(0), 0};
  }
};

struct Q5_KDecoder {
  static constexpr int kGroupBlocks = 8, kOffset = 0, kMaxAbsCode = 31;
  static constexpr bool kPartialGroups = false, kHasMins = true, kScalesPer16 = false;
  struct State {
    const uint8_t* qs;
    const uint8_t* qh;
    float32x4_t scale[2], mins[2];
  };
  static void Prepare(const uint8_t* row, int64_t b0, int, State* st) {
    const uint8_t* blk = row + b0 / 8 * sizeof(BlockQ5_K);
    st->qs = blk + offsetof(BlockQ5_K, qs);
    st->qh = blk + offsetof(BlockQ5_K, qh);
    PrepareScalesMinsK(blk, blk + offsetof(BlockQ5_K, scales), st->scale, st->mins);
  }
  // Block j takes bit j of qh[l] as the fifth bit (bit 4) of value l and 16 + l.
  static BlockWeights Load(const State& st, int j) {
    uint8x16_t lo, hi;
    NibblesK(st.qs, j, &lo, &hi);
    const int8x16_t to_bit4 = vdupq_n_s8(static_cast<int8_t>(4 - j));  // negative: right shift
    const uint8x16_t bit4 = vdupq_n_u8(0x10);
    lo = vorrq_u8(lo, vandq_u8(vshlq_u8(vld1q_u8(st.qh), to_bit4), bit4));
    hi = vorrq_u8(hi, vandq_u8(vshlq_u8(vld1q_u8(st.qh + 16), to_bit4), bit4));
    return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), vdupq_n_s32(0), 0};
  }
};

struct Q6_KDecoder {
  static constexpr int kGroupBlocks = 8, kOffset = 32, kMaxAbsCode = 63;
  static constexpr bool kPartialGroups = false, kHasMins = false, kScalesPer16 = true;
  struct State {
    const uint8_t* blk;
    float32x4_t scale[2], mins[2];
  };
  static void Prepare(const uint8_t* row, int64_t b0, int, State* st) {
    st->blk = row + b0 / 8 * sizeof(BlockQ6_K);
    st->scale[0] = st->scale[1] = vdupq_n_f32(HalfToFloat(st->blk + offsetof(BlockQ6_K, d)));
  }
  // Block j: half h = j / 4 of the super-block, quarter k = j % 4: low (k < 2) or high
  // nibbles of ql[64 h + 32 (k & 1) ..], and bits 2k, 2k + 1 of qh[32 h ..] as bits 4-5:
  // the 6-bit code u = w + 32.
  static BlockWeights Load(const State& st, int j) {
    const int h = j / 4, k = j % 4;
    const uint8_t* ql = st.blk + offsetof(BlockQ6_K, ql) + 64 * h + 32 * (k & 1);
    const uint8_t* qh = st.blk + offsetof(BlockQ6_K, qh) + 32 * h;
    uint8x16_t lo = vld1q_u8(ql), hi = vld1q_u8(ql + 16);
    if (k < 2) {
      const uint8x16_t mask = vdupq_n_u8(0x0F);
      lo = vandq_u8(lo, mask);
      hi = vandq_u8(hi, mask);
    } else {
      lo = vshrq_n_u8(lo, 4);
      hi = vshrq_n_u8(hi, 4);
    }
    const int8x16_t to_bits45 = vdupq_n_s8(static_cast<int8_t>(4 - 2 * k));  // negative: right shift
    const uint8x16_t bits45 = vdupq_n_u8(0x30);
    lo = vorrq_u8(lo, vandq_u8(vshlq_u8(vld1q_u8(qh), to_bits45), bits45));
    hi = vorrq_u8(hi, vandq_u8(vshlq_u8(vld1q_u8(qh + 16), to_bits45), bits45));
    int32_t pair_scales;  // int8 scales 4 (j / 2) .. 4 (j / 2) + 3, of blocks j & ~1 and j | 1
    std::memcpy(&pair_scales, st.blk + offsetof(BlockQ6_K, scales) + 4 * (j / 2), 4);
    const int16x8_t s16 = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(pair_scales)));
    return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), vmovl_s16(vget_low_s16(s16)), 2 * (j % 2)};
  }
};

// ---------------------------------------------------------------------------------------
// The integer dot product of one block, as int32 lanes whose sum is sum(w * q_x): Dot's
// products of the codes u added to the activations' -o * sum(q_x) lanes (zeros for o = 0),
// `bias[0]` for the whole block, or (Q6_K) bias[0] / bias[1] for its two 16-value halves.
// Dot supplies Block (32 values, |u| <= 128), NarrowBlock (32 values, |u| <= 64) and Half
// (16 values, |u| <= 128), each adding to an initial int32 vector. Q6_K: each half's sum
// times its integer scale; |sum| <= 2 * 16 * 32 * 127 * 128 < 2^24, so the int32 lanes and
// their float conversion are exact.
template <class D, class Dot>
inline int32x4_t BlockDot(const BlockWeights& w, int8x16_t x0, int8x16_t x1, const int32x4_t bias[2]) {
  static_assert(D::kMaxAbsCode <= 128);
  if constexpr (D::kScalesPer16) {
    const int32x4_t lo = Dot::Half(bias[0], w.lo, x0), hi = Dot::Half(bias[1], w.hi, x1);
    if (w.scale_lane == 0) return vmlaq_laneq_s32(vmulq_laneq_s32(lo, w.scales4, 0), hi, w.scales4, 1);
    return vmlaq_laneq_s32(vmulq_laneq_s32(lo, w.scales4, 2), hi, w.scales4, 3);
  } else if constexpr (D::kMaxAbsCode <= 64) {
    return Dot::NarrowBlock(bias[0], w.lo, w.hi, x0, x1);
  } else {
    return Dot::Block(bias[0], w.lo, w.hi, x0, x1);
  }
}

// Blocks [b0, b0 + n) of R rows against T tokens, into acc. kFull: n is kGroupBlocks (the
// block loop then has no bounds checks); else a partial group of n < 4 blocks.
template <class D, class Dot, int R, int T, bool kFull>
inline void QuantGroup(const uint8_t* const row[R], const int8_t* const xq[T], const int32_t* const xb[T],
                       const float* const xd[T], const float* const xs[T], int64_t b0, int n,
                       float32x4_t acc[R][T]) {
  typename D::State st[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) D::Prepare(row[r], b0, n, &st[r]);
  if constexpr (D::kHasMins) {  // first, so that the mins need no registers during the blocks
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const float32x4_t ds0 = vld1q_f32(xs[t] + b0), ds1 = vld1q_f32(xs[t] + b0 + 4);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        acc[r][t] = vfmsq_f32(acc[r][t], st[r].mins[0], ds0);
        acc[r][t] = vfmsq_f32(acc[r][t], st[r].mins[1], ds1);
      }
    }
  }
  // One quad at a time: unrolling both quads of a super-block left GCC's scheduler more
  // live values than the 32 registers hold.
  #pragma GCC unroll 1
  for (int q = 0; q < D::kGroupBlocks / 4; ++q) {
    const int nq = kFull ? 4 : n;  // blocks in this quad (partial groups have one quad)
    float32x4_t sd[R][T];          // weight scale * activation scale, per block
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const float32x4_t dx = kFull ? vld1q_f32(xd[t] + b0 + 4 * q) : LoadFloats4(xd[t] + b0, n);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) sd[r][t] = vmulq_f32(st[r].scale[q], dx);
    }
    #pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      if (!kFull && j >= nq) break;
      const int64_t k = b0 + 4 * q + j;  // block index in the row
      BlockWeights wv[R];
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = D::Load(st[r], 4 * q + j);
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const int8x16_t x0 = vld1q_s8(xq[t] + 32 * k), x1 = vld1q_s8(xq[t] + 32 * k + 16);
        int32x4_t bias[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
        if constexpr (D::kOffset != 0) {
          bias[0] = vld1q_s32(xb[t] + 8 * k);
          bias[1] = vld1q_s32(xb[t] + 8 * k + 4);
          if constexpr (!D::kScalesPer16) bias[0] = vaddq_s32(bias[0], bias[1]);
        }
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const int32x4_t dot = BlockDot<D, Dot>(wv[r], x0, x1, bias);
          acc[r][t] = FmaLane(acc[r][t], vcvtq_f32_s32(dot), sd[r][t], j);
        }
      }
    }
  }
}

template <class D, class Dot, int R, int T>
void QuantTile(const WeightMatrix& w, int64_t r0, const Q8ActivationsView& x, int64_t t0, float* y,
               int64_t y_stride) {
  const int64_t nb = w.cols / 32, x_nb = x.n_blocks;  // blocks in the row; activation stride
  const uint8_t* row[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) row[r] = static_cast<const uint8_t*>(w.data) + (r0 + r) * w.row_bytes;
  const int8_t* xq[T];
  const int32_t* xb[T];
  const float* xd[T];
  const float* xs[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = x.q + (t0 + t) * x.cols;
    xb[t] = x.bias8 + (t0 + t) * x_nb * 8;
    xd[t] = x.d + (t0 + t) * x_nb;
    xs[t] = x.dsum + (t0 + t) * x_nb;
  }
  float32x4_t acc[R][T];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = vdupq_n_f32(0.0f);
  int64_t b0 = 0;
  for (; b0 + D::kGroupBlocks <= nb; b0 += D::kGroupBlocks) {
    QuantGroup<D, Dot, R, T, true>(row, xq, xb, xd, xs, b0, D::kGroupBlocks, acc);
  }
  if constexpr (D::kPartialGroups) {
    if (b0 < nb) QuantGroup<D, Dot, R, T, false>(row, xq, xb, xd, xs, b0, static_cast<int>(nb - b0), acc);
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[(t0 + t) * y_stride + r0 + r] = vaddvq_f32(acc[r][t]);
}

// QuantRows only makes decode tiles (T = 1) and prefill tiles of R <= 2: the other shapes
// RunTile names are not compiled.
template <class D, class Dot>
struct QuantTiles {
  template <int R, int T>
  struct Tile {
    static void Run(const void* p) {
      if constexpr (T == 1 || R <= 2) {
        const auto& a = *static_cast<const QuantArgs*>(p);
        QuantTile<D, Dot, R, T>(*a.w, a.r0, *a.x, a.t0, a.y, a.y_stride);
      } else {
        __builtin_trap();
      }
    }
  };
};

// Decode streams 4 rows against one token; prefill takes 2-row x 4-token tiles, whose
// 8 accumulators and 8 scale vectors leave registers for the weights (32 NEON registers).
template <class D, class Dot>
void QuantRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
               float* y, int64_t y_stride) {
  ForEachTile<QuantTiles<D, Dot>::template Tile>(QuantArgs{&w, &x, y, y_stride, 0, 0}, row_begin, row_end,
                                                 x.n_tokens, w.row_bytes, x.n_tokens == 1 ? 4 : 2);
}

// The quantized entries of a kernel table. Row panels (an AVX-512 load layout, which
// RowPanelsPreferred() never picks on ARM) stay null: MatMul borrows the scalar twins.
template <class Dot>
void SetQuantKernels(KernelTable* k) {
  k->q8_0 = {QuantRows<Q8_0Decoder, Dot>, Q8_0Decoder::kOffset};
  k->q4_0 = {QuantRows<Q4_0Decoder, Dot>, Q4_0Decoder::kOffset};
  k->q4_k = {QuantRows<Q4_KDecoder, Dot>, Q4_KDecoder::kOffset};
  k->q5_k = {QuantRows<Q5_KDecoder, Dot>, Q5_KDecoder::kOffset};
  k->q6_k = {QuantRows<Q6_KDecoder, Dot>, Q6_KDecoder::kOffset};
}

}  // namespace neon_tiles
}  // namespace
}  // namespace ember

#endif  // EMBER_KERNELS_NEON_QUANT_TILES_H_
