// NEON twin of QuantizeQ8RowScalar (kernels/q8_activation_buffer.cc): a 32-value block is
// eight registers. Bit-identical to the scalar twin:
//   amax   maxNum (FMAXNM) of |x| from 0, so NaNs are skipped as std::fmax skips them;
//   q      FCVTNS rounds x * (127 / amax) half to even, as the scalar rounding constant does;
//          a product that is not a number below 128 in magnitude (x NaN, amax infinite,
//          127 / amax overflowed) becomes 0, as the scalar twin's isfinite check makes it;
//   d      the scalar twin's own fp16 rounding (fp16.h; this file is built for the baseline).
#include <arm_neon.h>

#include <cstdint>

#include "kernels/fp16.h"
#include "kernels/q8_quantize_kernels.h"

namespace ember {
namespace {

int32x4_t Round(float32x4_t x, float32x4_t inv) {
  const float32x4_t p = vmulq_f32(x, inv);
  const uint32x4_t finite = vcaleq_f32(p, vdupq_n_f32(128.0f));  // |p| <= 128, false for NaN
  return vandq_s32(vcvtnq_s32_f32(p), vreinterpretq_s32_u32(finite));
}

}  // namespace

void QuantizeQ8RowNeon(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float* xb = x + 32 * b;
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; ++k) {
      v[k] = vld1q_f32(xb + 4 * k);
      m = vmaxnmq_f32(m, vabsq_f32(v[k]));
    }
    const float amax = vmaxnmvq_f32(m);
    const float32x4_t inv = vdupq_n_f32(amax != 0.0f ? 127.0f / amax : 0.0f);
    int32x4_t q[8];
    for (int k = 0; k < 8; ++k) q[k] = Round(v[k], inv);
    // |q| <= 127: the narrowing moves keep every value.
    for (int h = 0; h < 2; ++h) {
      const int16x8_t lo = vcombine_s16(vmovn_s32(q[4 * h]), vmovn_s32(q[4 * h + 1]));
      const int16x8_t hi = vcombine_s16(vmovn_s32(q[4 * h + 2]), vmovn_s32(q[4 * h + 3]));
      vst1q_s8(out.q + 32 * b + 16 * h, vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
    }
    const int32_t s0 = vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3])));
    const int32_t s1 = vaddvq_s32(vaddq_s32(vaddq_s32(q[4], q[5]), vaddq_s32(q[6], q[7])));
    const float d = Fp16ToFloat(FloatToFp16(amax / 127.0f));
    out.d[b] = d;
    out.dsum[b] = d * static_cast<float>(s0 + s1);
    out.sum16[2 * b] = s0;
    out.sum16[2 * b + 1] = s1;
    for (int l = 0; l < 8; ++l) {
      out.d8[8 * b + l] = d;
      out.bias8[8 * b + l] = 0;
    }
    out.bias8[8 * b] = -weight_offset * s0;
    out.bias8[8 * b + 4] = -weight_offset * s1;
    out.bias1[b] = -weight_offset * (s0 + s1);
  }
}

}  // namespace ember
