// AVX2 + FMA GeluNew: 8 lanes per step, the last n % 8 values through maskload/maskstore.
// Same evaluation as kernels/avx512/gelu_kernels.cc, x / (1 + exp(-2u)); AVX2 has no
// scalef or 14-bit reciprocal, so 2^n is built in the exponent bits and 1/d is a division.
// Everything here has internal linkage except the entry point.
#include <immintrin.h>

#include <cstdint>

#include "kernels/ops.h"

namespace ember {
namespace {

// See kernels/avx512/gelu_kernels.cc. kMinW also keeps 2^n a normal float (n >= -44).
constexpr float kMinW = -30.0f, kMaxW = 80.0f;

__m256 Exp(__m256 w) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(w, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), w);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i pow2n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(pow2n));
}

__m256 Gelu(__m256 x) {
  const __m256 x2 = _mm256_mul_ps(x, x);
  const __m256 inner = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), x2), x, x);
  const __m256 w = _mm256_mul_ps(inner, _mm256_set1_ps(-1.5957691216057308f));  // -2 sqrt(2/pi)
  const __m256 wc = _mm256_min_ps(_mm256_max_ps(w, _mm256_set1_ps(kMinW)), _mm256_set1_ps(kMaxW));
  const __m256 y = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), Exp(wc)));
  // Lanes past kMaxW (or NaN): x * 0, signed zero as the scalar twin gives.
  const __m256 live = _mm256_cmp_ps(w, _mm256_set1_ps(kMaxW), _CMP_LE_OQ);
  return _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_setzero_ps()), y, live);
}

}  // namespace

void GeluNewAvx2(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, Gelu(_mm256_loadu_ps(x + i)));
  if (i < n) {
    // Lane l is live when l < n - i: compare against the lane index.
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(x + i, m, Gelu(_mm256_maskload_ps(x + i, m)));
  }
}

}  // namespace ember
