// AVX-512 GeluNew: 16 lanes per step, the last n % 16 values masked. gelu_new is evaluated
// as x * sigmoid(2u) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3), which equals
// 0.5 x (1 + tanh(u)) and needs one exp and one reciprocal per value. Everything here has
// internal linkage except the entry point (see attention_kernels.cc for why).
// GCC 12 reports its own _mm512_undefined_* self-initialisations as uninitialised reads.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/ops.h"

namespace ember {
namespace {

// Beyond w = 80, x / (1 + exp(w)) is below 2e-35 |x|: the result is 0 (as the scalar twin
// gives once tanh rounds to -1). Below w = -30, exp(w) is lost in 1 + exp(w) anyway. The
// clamp also keeps 1 + exp(w) a normal float for the reciprocal, and infinities out.
constexpr float kMinW = -30.0f, kMaxW = 80.0f;

// exp(w) for w in [kMinW, kMaxW]: w = n ln2 + r with |r| <= ln2/2 (ln2 split in two so that
// n * ln2_hi is exact), exp(r) by its degree-7 Taylor polynomial (truncation error below
// 6e-9 relative, under a tenth of a float ulp), times 2^n.
__m512 Exp(__m512 w) {
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(w, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), w);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

__m512 Gelu(__m512 x) {
  // w = -2u; the cubic term by FMA: x + (0.044715 x^2) x.
  const __m512 x2 = _mm512_mul_ps(x, x);
  const __m512 inner = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x2), x, x);
  const __m512 w = _mm512_mul_ps(inner, _mm512_set1_ps(-1.5957691216057308f));  // -2 sqrt(2/pi)
  const __m512 wc = _mm512_min_ps(_mm512_max_ps(w, _mm512_set1_ps(kMinW)), _mm512_set1_ps(kMaxW));
  const __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), Exp(wc));
  // 1/d: rcp14 (relative error < 2^-14) and one Newton step r + r (1 - d r), error ~2^-28.
  const __m512 r0 = _mm512_rcp14_ps(d);
  const __m512 inv = _mm512_fmadd_ps(r0, _mm512_fnmadd_ps(d, r0, _mm512_set1_ps(1.0f)), r0);
  // Lanes past kMaxW (or NaN) get 1/d = 0, so x * 0 keeps the sign of x, as the scalar twin.
  const __mmask16 live = _mm512_cmp_ps_mask(w, _mm512_set1_ps(kMaxW), _CMP_LE_OQ);
  return _mm512_mul_ps(x, _mm512_maskz_mov_ps(live, inv));
}

}  // namespace

void GeluNewAvx512(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, Gelu(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(x + i, m, Gelu(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace ember
