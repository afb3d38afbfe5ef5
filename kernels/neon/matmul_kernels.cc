// ARM64 NEON row kernels for baseline armv8-a (every AArch64 CPU has Advanced SIMD with
// fp16 <-> fp32 conversion). Float weights: 4-lane FMA tiles. Quantized weights:
// kernels/neon/quant_tiles.h with the int8 dot product built from widening multiplies:
// vmull_s8 / vmlal_s8 multiply 8 int8 pairs into int16 lanes (two or four products per
// lane, as the weight range allows without overflow), vpaddlq_s16 / vpadalq_s16 add
// neighbouring int16 lanes into int32 ones. Machines with the dotprod extension use
// kernels/neon_dotprod instead, which shares this file's float kernels.
// GCC's first scheduling pass (on by default for AArch64) hoists the loads of a whole
// unrolled super-block ahead of their use and then spills them: turned off here, the Q4_K /
// Q5_K / Q6_K decode loops run 15-35% fewer instructions (bench/README.md, ARM64 section).
// Before every include, so that all functions of this translation unit share the options.
#pragma GCC optimize("no-schedule-insns")
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/neon/quant_tiles.h"
#include "kernels/tile_walk.h"

namespace ember {
namespace neon {
namespace {

// ---------------------------------------------------------------------------------------
// Float weights: 8 columns per step, as two 4-lane accumulators per (row, token); columns
// past the last multiple of 8 take one 4-lane step into the first accumulator, then go one
// at a time (fused multiply-adds, the same for every tile shape).

template <DType kType>
struct FloatLoad;
template <>
struct FloatLoad<DType::kF32> {
  static constexpr int kBytes = 4;
  static float32x4_t Load4(const uint8_t* p) { return vld1q_f32(reinterpret_cast<const float*>(p)); }
  static void Load8(const uint8_t* p, float32x4_t* a, float32x4_t* b) {
    *a = Load4(p);
    *b = Load4(p + 16);
  }
  static float One(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
};
template <>
struct FloatLoad<DType::kF16> {
  static constexpr int kBytes = 2;
  static float32x4_t Load4(const uint8_t* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p))));
  }
  static void Load8(const uint8_t* p, float32x4_t* a, float32x4_t* b) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(p)));
    *a = vcvt_f32_f16(vget_low_f16(h));
    *b = vcvt_high_f32_f16(h);
  }
  static float One(const uint8_t* p) { return neon_tiles::HalfToFloat(p); }
};
template <>
struct FloatLoad<DType::kBF16> {
  static constexpr int kBytes = 2;
  // bf16 is the top half of a float: widen each lane and shift it up 16 bits.
  static float32x4_t Load4(const uint8_t* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p)), 16));
  }
  static void Load8(const uint8_t* p, float32x4_t* a, float32x4_t* b) {
    const uint16x8_t h = vld1q_u16(reinterpret_cast<const uint16_t*>(p));
    *a = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
    *b = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
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
  float32x4_t acc0[R][T], acc1[R][T];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc0[r][t] = acc1[r][t] = vdupq_n_f32(0.0f);
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    float32x4_t wa[R], wb[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) L::Load8(row[r] + c * L::kBytes, &wa[r], &wb[r]);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const float32x4_t xa = vld1q_f32(xt[t] + c), xb = vld1q_f32(xt[t] + c + 4);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        acc0[r][t] = vfmaq_f32(acc0[r][t], wa[r], xa);
        acc1[r][t] = vfmaq_f32(acc1[r][t], wb[r], xb);
      }
    }
  }
  if (c + 4 <= cols) {
    float32x4_t wa[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wa[r] = L::Load4(row[r] + c * L::kBytes);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const float32x4_t xa = vld1q_f32(xt[t] + c);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc0[r][t] = vfmaq_f32(acc0[r][t], wa[r], xa);
    }
    c += 4;
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float sum = vaddvq_f32(vaddq_f32(acc0[r][t], acc1[r][t]));
      for (int64_t cc = c; cc < cols; ++cc) sum = __builtin_fmaf(L::One(row[r] + cc * L::kBytes), xt[t][cc], sum);
      y[(t0 + t) * y_stride + r0 + r] = sum;
    }
  }
}

// FloatRows only makes decode tiles (T = 1) and prefill tiles of R <= 2: the other shapes
// RunTile names are not compiled.
template <DType kType>
struct FloatTiles {
  template <int R, int T>
  struct Tile {
    static void Run(const void* p) {
      if constexpr (T == 1 || R <= 2) {
        const auto& a = *static_cast<const FloatArgs*>(p);
        FloatTile<kType, R, T>(*a.w, a.r0, a.x, a.t0, a.y, a.y_stride);
      } else {
        __builtin_trap();
      }
    }
  };
};

// Decode streams 4 rows (8 independent FMA chains); prefill takes 2-row x 4-token tiles
// (16 accumulators).
template <DType kType>
void FloatRows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x, int64_t n_tokens,
               float* y, int64_t y_stride) {
  ForEachTile<FloatTiles<kType>::template Tile>(FloatArgs{&w, x, y, y_stride, 0, 0}, row_begin, row_end,
                                                n_tokens, w.row_bytes, n_tokens == 1 ? 4 : 2);
}

// ---------------------------------------------------------------------------------------
// The int8 dot products for kernels/neon/quant_tiles.h, added to `acc`. vmull_s8 takes the
// low 8 lanes, vmlal_high_s8 the high 8; an int16 lane may hold up to two products of weight
// codes |u| <= 128 (and |q_x| <= 127: at most 2 * 128 * 127 = 32512) or four of |u| <= 64
// (4 * 64 * 127 = 32512) before vpadalq_s16 widens neighbouring pairs into int32 lanes.

struct MullDot {
  static int32x4_t Half(int32x4_t acc, int8x16_t w, int8x16_t x) {
    const int16x8_t p = vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(x)), w, x);
    return vpadalq_s16(acc, p);
  }
  static int32x4_t Block(int32x4_t acc, int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    const int16x8_t p0 = vmlal_high_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), w0, x0);
    const int16x8_t p1 = vmlal_high_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), w1, x1);
    return vpadalq_s16(vpadalq_s16(acc, p0), p1);
  }
  static int32x4_t NarrowBlock(int32x4_t acc, int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    int16x8_t p = vmlal_high_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), w0, x0);
    p = vmlal_high_s8(vmlal_s8(p, vget_low_s8(w1), vget_low_s8(x1)), w1, x1);
    return vpadalq_s16(acc, p);
  }
};

}  // namespace
}  // namespace neon

// Every kernel keeps one accumulator (pair) per (row, token) in the same order for every
// tile shape: all are row-exact (kernels/kernel_table.h), no row_exact twins. (A function
// static: NeonDotprodKernels copies the float entries, possibly during static init.)
const KernelTable& NeonKernels() {
  static const KernelTable table = [] {
    KernelTable k;
    k.f32 = neon::FloatRows<DType::kF32>;
    k.f16 = neon::FloatRows<DType::kF16>;
    k.bf16 = neon::FloatRows<DType::kBF16>;
    neon_tiles::SetQuantKernels<neon::MullDot>(&k);
    return k;
  }();
  return table;
}

}  // namespace ember
