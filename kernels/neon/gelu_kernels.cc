// NEON GeluNew: 4 lanes per step, the last n % 4 values through a padded copy. The same
// evaluation as the AVX2 and AVX-512 twins, x / (1 + exp(-2u)) (kernels/avx512/gelu_kernels.cc
// explains it): 2^n built in the exponent bits, 1/d a vector division.
#include <arm_neon.h>

#include <cstdint>

#include "kernels/ops.h"

namespace ember {
namespace {

// See kernels/avx512/gelu_kernels.cc. kMinW also keeps 2^n a normal float (n >= -44).
constexpr float kMinW = -30.0f, kMaxW = 80.0f;

float32x4_t Exp(float32x4_t w) {
  const float32x4_t n = vrndnq_f32(vmulq_f32(w, vdupq_n_f32(1.44269504088896341f)));
  float32x4_t r = vfmsq_f32(w, n, vdupq_n_f32(0.693145751953125f));
  r = vfmsq_f32(r, n, vdupq_n_f32(1.428606765330187045e-06f));
  float32x4_t p = vdupq_n_f32(1.0f / 5040.0f);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 720.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 120.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 24.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 6.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  const int32x4_t pow2n = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(pow2n));
}

float32x4_t Gelu(float32x4_t x) {
  const float32x4_t x2 = vmulq_f32(x, x);
  const float32x4_t inner = vfmaq_f32(x, vmulq_f32(vdupq_n_f32(0.044715f), x2), x);
  const float32x4_t w = vmulq_f32(inner, vdupq_n_f32(-1.5957691216057308f));  // -2 sqrt(2/pi)
  // maxnm/minnm: a NaN w clamps to a number, as the x86 twins' max/min do; the lane is
  // then not live below.
  const float32x4_t wc = vminnmq_f32(vmaxnmq_f32(w, vdupq_n_f32(kMinW)), vdupq_n_f32(kMaxW));
  const float32x4_t y = vdivq_f32(x, vaddq_f32(vdupq_n_f32(1.0f), Exp(wc)));
  // Lanes past kMaxW (or NaN): x * 0, signed zero as the scalar twin gives.
  const uint32x4_t live = vcleq_f32(w, vdupq_n_f32(kMaxW));
  return vbslq_f32(live, y, vmulq_f32(x, vdupq_n_f32(0.0f)));
}

}  // namespace

void GeluNewNeon(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, Gelu(vld1q_f32(x + i)));
  if (i < n) {
    float tail[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t k = i; k < n; ++k) tail[k - i] = x[k];
    vst1q_f32(tail, Gelu(vld1q_f32(tail)));
    for (int64_t k = i; k < n; ++k) x[k] = tail[k - i];
  }
}

}  // namespace ember
