// NEON attention kernels (ARMv8-A Advanced SIMD, which every aarch64 core has): 4 lanes per
// register. The one-query and four-query kernels share their arithmetic per (query, row):
//   dot         two accumulators per row, a over values 8k..8k+3 and b over 8k+4..8k+7,
//               one more 4-value step into a when dim % 8 >= 4, then the sum of a + b's
//               lanes, then the dim % 4 tail in scalar order;
//   accumulate  per column, rows alternate between two sums, a (starting at acc) and b,
//               a + b stored; the dim % 4 tail columns add the rows in order;
// so dot4 / accumulate4 equal four one-query calls bit for bit (attention_kernels.h).
// Built for the baseline, like the scalar twin, so fp16.h's exact conversions serve the
// tails.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/attention_kernels.h"
#include "kernels/fp16.h"

namespace ember {
namespace {

struct F32Rows {
  using T = float;
  static float32x4_t Load(const T* p) { return vld1q_f32(p); }
  static float LoadOne(const T* p) { return *p; }
};
struct F16Rows {
  using T = uint16_t;
  static float32x4_t Load(const T* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float LoadOne(const T* p) { return Fp16ToFloat(*p); }
};
struct Bf16Rows {
  using T = uint16_t;
  static float32x4_t Load(const T* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float LoadOne(const T* p) { return Bf16ToFloat(*p); }
};

// scores[j] = scale * dot(q, row j); rows one at a time, the loads of q shared by none
// (decode: one query, each row read once).
template <typename L>
void Dot(const float* q, const void* rows_v, int64_t stride, int64_t n, int dim, float scale,
         float* scores) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  for (int64_t j = 0; j < n; ++j) {
    const typename L::T* r = rows + j * stride;
    float32x4_t a = vdupq_n_f32(0.0f), b = a;
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
      a = vfmaq_f32(a, vld1q_f32(q + i), L::Load(r + i));
      b = vfmaq_f32(b, vld1q_f32(q + i + 4), L::Load(r + i + 4));
    }
    if (i + 4 <= dim) {
      a = vfmaq_f32(a, vld1q_f32(q + i), L::Load(r + i));
      i += 4;
    }
    float t = vaddvq_f32(vaddq_f32(a, b));
    for (; i < dim; ++i) t += q[i] * L::LoadOne(r + i);
    scores[j] = t * scale;
  }
}

// Four queries: each row's registers serve four dot products.
template <typename L>
void Dot4(const float* q, int64_t q_stride, const void* rows_v, int64_t stride, int64_t n, int dim,
          float scale, float* scores, int64_t scores_stride) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  const float* qk[4] = {q, q + q_stride, q + 2 * q_stride, q + 3 * q_stride};
  for (int64_t j = 0; j < n; ++j) {
    const typename L::T* r = rows + j * stride;
    float32x4_t a[4], b[4];
    for (int k = 0; k < 4; ++k) a[k] = b[k] = vdupq_n_f32(0.0f);
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
      const float32x4_t r0 = L::Load(r + i), r1 = L::Load(r + i + 4);
      #pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        a[k] = vfmaq_f32(a[k], vld1q_f32(qk[k] + i), r0);
        b[k] = vfmaq_f32(b[k], vld1q_f32(qk[k] + i + 4), r1);
      }
    }
    if (i + 4 <= dim) {
      const float32x4_t r0 = L::Load(r + i);
      #pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) a[k] = vfmaq_f32(a[k], vld1q_f32(qk[k] + i), r0);
      i += 4;
    }
    float t[4];
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) t[k] = vaddvq_f32(vaddq_f32(a[k], b[k]));
    for (; i < dim; ++i) {
      const float rv = L::LoadOne(r + i);
      #pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) t[k] += qk[k][i] * rv;
    }
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) scores[k * scores_stride + j] = t[k] * scale;
  }
}

// Columns in groups of up to 16 (four registers), two rows at a time into the a and b sums.
template <typename L>
void Accumulate(const float* w, const void* rows_v, int64_t stride, int64_t n, int dim, float* acc) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  const int vec_dim = dim & ~3;
  for (int i0 = 0; i0 < vec_dim; i0 += 16) {
    const int chunks = (vec_dim - i0) >= 16 ? 4 : (vec_dim - i0) / 4;
    float32x4_t a[4], b[4];
    #pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      a[c] = c < chunks ? vld1q_f32(acc + i0 + 4 * c) : vdupq_n_f32(0.0f);
      b[c] = vdupq_n_f32(0.0f);
    }
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
      const typename L::T* r0 = rows + j * stride + i0;
      #pragma GCC unroll 4
      for (int c = 0; c < chunks; ++c) {
        a[c] = vfmaq_n_f32(a[c], L::Load(r0 + 4 * c), w[j]);
        b[c] = vfmaq_n_f32(b[c], L::Load(r0 + stride + 4 * c), w[j + 1]);
      }
    }
    if (j < n) {
      #pragma GCC unroll 4
      for (int c = 0; c < chunks; ++c) a[c] = vfmaq_n_f32(a[c], L::Load(rows + j * stride + i0 + 4 * c), w[j]);
    }
    #pragma GCC unroll 4
    for (int c = 0; c < chunks; ++c) vst1q_f32(acc + i0 + 4 * c, vaddq_f32(a[c], b[c]));
  }
  for (int i = vec_dim; i < dim; ++i) {
    float s = acc[i];
    for (int64_t j = 0; j < n; ++j) s += w[j] * L::LoadOne(rows + j * stride + i);
    acc[i] = s;
  }
}

// Four weight rows: each value row loaded once serves four accumulators, one 4-column
// register at a time.
template <typename L>
void Accumulate4(const float* w, int64_t w_stride, const void* rows_v, int64_t stride, int64_t n, int dim,
                 float* acc, int64_t acc_stride) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  const int vec_dim = dim & ~3;
  const float* wk[4] = {w, w + w_stride, w + 2 * w_stride, w + 3 * w_stride};
  float* ak[4] = {acc, acc + acc_stride, acc + 2 * acc_stride, acc + 3 * acc_stride};
  for (int i = 0; i < vec_dim; i += 4) {
    float32x4_t a[4], b[4];
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      a[k] = vld1q_f32(ak[k] + i);
      b[k] = vdupq_n_f32(0.0f);
    }
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
      const float32x4_t r0 = L::Load(rows + j * stride + i), r1 = L::Load(rows + (j + 1) * stride + i);
      #pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        a[k] = vfmaq_n_f32(a[k], r0, wk[k][j]);
        b[k] = vfmaq_n_f32(b[k], r1, wk[k][j + 1]);
      }
    }
    if (j < n) {
      const float32x4_t r0 = L::Load(rows + j * stride + i);
      #pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) a[k] = vfmaq_n_f32(a[k], r0, wk[k][j]);
    }
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) vst1q_f32(ak[k] + i, vaddq_f32(a[k], b[k]));
  }
  for (int i = vec_dim; i < dim; ++i) {
    for (int k = 0; k < 4; ++k) {
      float s = ak[k][i];
      for (int64_t j = 0; j < n; ++j) s += wk[k][j] * L::LoadOne(rows + j * stride + i);
      ak[k][i] = s;
    }
  }
}

void StoreF32(const float* src, int64_t n, void* dst) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

// FCVT rounds to nearest even (the default FPCR mode) and keeps subnormal halves, as
// FloatToFp16 does.
void StoreF16(const float* src, int64_t n, void* dst) {
  uint16_t* out = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1_u16(out + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
  for (; i < n; ++i) out[i] = FloatToFp16(src[i]);
}

void StoreBf16(const float* src, int64_t n, void* dst) {
  uint16_t* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = FloatToBf16(src[i]);
}

// exp(x) for x <= 0, as the AVX2 twin: n = round(x log2 e), r = x - n ln 2 in two parts, a
// degree-6 polynomial, 2^n built in the exponent bits (n clamped at -126), results below
// exp(-87) flushed to 0.
float32x4_t ExpNonPositive(float32x4_t x) {
  const uint32x4_t tiny = vcltq_f32(x, vdupq_n_f32(-87.0f));
  x = vmaxnmq_f32(x, vdupq_n_f32(-87.0f));
  const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145751953125f));
  r = vfmsq_f32(r, n, vdupq_n_f32(1.428606765330187045e-06f));
  float32x4_t p = vdupq_n_f32(1.0f / 720.0f);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 120.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 24.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 6.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  const float32x4_t e = vmulq_f32(p, vreinterpretq_f32_s32(bits));
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(e), tiny));
}

float ExpSum(float* x, int64_t n, float max) {
  const float32x4_t vmax = vdupq_n_f32(max);
  float32x4_t sum = vdupq_n_f32(0.0f);
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float32x4_t e = ExpNonPositive(vsubq_f32(vld1q_f32(x + j), vmax));
    vst1q_f32(x + j, e);
    sum = vaddq_f32(sum, e);
  }
  float total = vaddvq_f32(sum);
  if (j < n) {
    float tail[4] = {max, max, max, max};  // padding: exp(0), discarded
    for (int64_t k = j; k < n; ++k) tail[k - j] = x[k];
    vst1q_f32(tail, ExpNonPositive(vsubq_f32(vld1q_f32(tail), vmax)));
    for (int64_t k = j; k < n; ++k) {
      x[k] = tail[k - j];
      total += x[k];
    }
  }
  return total;
}

template <typename L>
constexpr KvRowKernels RowKernels(void (*store)(const float*, int64_t, void*)) {
  return {Dot<L>, Accumulate<L>, Dot4<L>, Accumulate4<L>, store};
}

}  // namespace

const AttentionKernelTable& NeonAttentionKernels() {
  static const AttentionKernelTable table{RowKernels<F32Rows>(StoreF32), RowKernels<F16Rows>(StoreF16),
                                          RowKernels<Bf16Rows>(StoreBf16), ExpSum};
  return table;
}

}  // namespace ember
