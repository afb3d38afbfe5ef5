// AVX2 + FMA + F16C attention kernels: 8 lanes per step; the last dim % 8 values of a
// head (none for the usual head sizes) take a scalar tail. Everything here has internal
// linkage (no fp16.h, no std:: templates): an inline function shared with baseline code
// could reach baseline callers compiled for AVX2.
#include <immintrin.h>

#include <cstdint>

#include "kernels/attention_kernels.h"

namespace ember {
namespace {

float BitsToFloat(uint32_t bits) {
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even on the top 16 bits; NaNs stay quiet NaNs (as FloatToBf16).
uint16_t ToBf16(float f) {
  uint32_t x;
  __builtin_memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7FFFu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

struct F32Rows {
  using T = float;
  static __m256 Load(const T* p) { return _mm256_loadu_ps(p); }
  static float LoadOne(const T* p) { return *p; }
};
struct F16Rows {
  using T = uint16_t;
  static __m256 Load(const T* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float LoadOne(const T* p) { return _cvtsh_ss(*p); }
};
struct Bf16Rows {
  using T = uint16_t;
  static __m256 Load(const T* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float LoadOne(const T* p) { return BitsToFloat(static_cast<uint32_t>(*p) << 16); }
};

float HorizontalSum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// Four rows at a time: four independent FMA chains.
template <typename L>
void Dot(const float* q, const void* rows_v, int64_t stride, int64_t n, int dim, float scale,
         float* scores) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  const int vec_dim = dim & ~7;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const typename L::T* r = rows + j * stride;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < vec_dim; i += 8) {
      const __m256 qv = _mm256_loadu_ps(q + i);
      s0 = _mm256_fmadd_ps(qv, L::Load(r + i), s0);
      s1 = _mm256_fmadd_ps(qv, L::Load(r + stride + i), s1);
      s2 = _mm256_fmadd_ps(qv, L::Load(r + 2 * stride + i), s2);
      s3 = _mm256_fmadd_ps(qv, L::Load(r + 3 * stride + i), s3);
    }
    float t[4] = {HorizontalSum(s0), HorizontalSum(s1), HorizontalSum(s2), HorizontalSum(s3)};
    for (int i = vec_dim; i < dim; ++i) {
      #pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) t[k] += q[i] * L::LoadOne(r + k * stride + i);
    }
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) scores[j + k] = t[k] * scale;
  }
  for (; j < n; ++j) {
    const typename L::T* r = rows + j * stride;
    __m256 s = _mm256_setzero_ps();
    for (int i = 0; i < vec_dim; i += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), L::Load(r + i), s);
    float t = HorizontalSum(s);
    for (int i = vec_dim; i < dim; ++i) t += q[i] * L::LoadOne(r + i);
    scores[j] = t * scale;
  }
}

// Columns in groups of up to 32 (four registers), two rows at a time into two accumulator
// sets; the dim % 8 tail is scalar.
template <typename L>
void Accumulate(const float* w, const void* rows_v, int64_t stride, int64_t n, int dim, float* acc) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  const int vec_dim = dim & ~7;
  for (int i0 = 0; i0 < vec_dim; i0 += 32) {
    const int chunks = (vec_dim - i0) >= 32 ? 4 : (vec_dim - i0) / 8;
    __m256 a[4], b[4];
    #pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      a[c] = c < chunks ? _mm256_loadu_ps(acc + i0 + 8 * c) : _mm256_setzero_ps();
      b[c] = _mm256_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
      const __m256 w0 = _mm256_set1_ps(w[j]), w1 = _mm256_set1_ps(w[j + 1]);
      const typename L::T* r0 = rows + j * stride + i0;
      #pragma GCC unroll 4
      for (int c = 0; c < chunks; ++c) {
        a[c] = _mm256_fmadd_ps(w0, L::Load(r0 + 8 * c), a[c]);
        b[c] = _mm256_fmadd_ps(w1, L::Load(r0 + stride + 8 * c), b[c]);
      }
    }
    if (j < n) {
      const __m256 w0 = _mm256_set1_ps(w[j]);
      #pragma GCC unroll 4
      for (int c = 0; c < chunks; ++c) a[c] = _mm256_fmadd_ps(w0, L::Load(rows + j * stride + i0 + 8 * c), a[c]);
    }
    #pragma GCC unroll 4
    for (int c = 0; c < chunks; ++c) _mm256_storeu_ps(acc + i0 + 8 * c, _mm256_add_ps(a[c], b[c]));
  }
  for (int i = vec_dim; i < dim; ++i) {
    float s = acc[i];
    for (int64_t j = 0; j < n; ++j) s += w[j] * L::LoadOne(rows + j * stride + i);
    acc[i] = s;
  }
}

void StoreF32(const float* src, int64_t n, void* dst) {
  float* out = static_cast<float*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = src[i];
}

void StoreF16(const float* src, int64_t n, void* dst) {
  uint16_t* out = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

void StoreBf16(const float* src, int64_t n, void* dst) {
  uint16_t* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = ToBf16(src[i]);
}

// exp(x) for x <= 0, as the AVX-512 twin but building 2^n in the exponent bits; n is
// clamped at -126 and results below exp(-87) flushed to 0.
__m256 ExpNonPositive(__m256 x) {
  const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}

float ExpSum(float* x, int64_t n, float max) {
  const __m256 vmax = _mm256_set1_ps(max);
  __m256 sum = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmax));
    _mm256_storeu_ps(x + j, e);
    sum = _mm256_add_ps(sum, e);
  }
  float total = HorizontalSum(sum);
  if (j < n) {
    float tail[8] = {max, max, max, max, max, max, max, max};  // padding: exp(0), discarded
    for (int64_t k = j; k < n; ++k) tail[k - j] = x[k];
    _mm256_storeu_ps(tail, ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(tail), vmax)));
    for (int64_t k = j; k < n; ++k) {
      x[k] = tail[k - j];
      total += x[k];
    }
  }
  return total;
}

}  // namespace

const AttentionKernelTable& Avx2AttentionKernels() {
  static const AttentionKernelTable table{
      {Dot<F32Rows>, Accumulate<F32Rows>, nullptr, nullptr, StoreF32},
      {Dot<F16Rows>, Accumulate<F16Rows>, nullptr, nullptr, StoreF16},
      {Dot<Bf16Rows>, Accumulate<Bf16Rows>, nullptr, nullptr, StoreBf16},
      ExpSum};
  return table;
}

}  // namespace ember
