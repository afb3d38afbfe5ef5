// AVX2 twin of QuantizeQ8RowScalar (kernels/q8_activation_buffer.cc): a 32-value block is
// four registers. Bit-identical to the scalar twin, as the AVX-512 one (see there); AVX2
// has no truncating int32 -> int8 move, so the one out-of-range conversion result is
// zeroed before the saturating packs. Internal linkage except the entry point.
#include <immintrin.h>

#include <cstdint>

#include "kernels/q8_quantize_kernels.h"

namespace ember {
namespace {

// |x| with NaN read as 0 (vmaxps returns its second operand on NaN, as std::fmax skips it).
__m256 AbsNoNan(__m256 x) {
  return _mm256_max_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_setzero_ps());
}

// round-half-even(x * inv) as int32, in [-127, 127] except for NaN or infinite products
// (amax infinite, x NaN), which convert to INT32_MIN and become 0 here, as the scalar
// twin's truncating int8 cast makes them.
__m256i Round(__m256 x, __m256 inv) {
  const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(x, inv));
  return _mm256_andnot_si256(_mm256_cmpeq_epi32(q, _mm256_set1_epi32(INT32_MIN)), q);
}

int32_t HorizontalSum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

float HorizontalMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

}  // namespace

void QuantizeQ8RowAvx2(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float* xb = x + 32 * b;
    const __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
    const __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
    const float amax = HorizontalMax(_mm256_max_ps(_mm256_max_ps(AbsNoNan(v0), AbsNoNan(v1)),
                                                   _mm256_max_ps(AbsNoNan(v2), AbsNoNan(v3))));
    const __m256 inv = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    const __m256i q0 = Round(v0, inv), q1 = Round(v1, inv), q2 = Round(v2, inv), q3 = Round(v3, inv);
    // packs work within 128-bit lanes: bytes come out as 4-int groups 0,2,4,6,1,3,5,7.
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.q + 32 * b),
                        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    const int32_t s0 = HorizontalSum(_mm256_add_epi32(q0, q1));
    const int32_t s1 = HorizontalSum(_mm256_add_epi32(q2, q3));
    const float d = _cvtsh_ss(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
    out.d[b] = d;
    out.dsum[b] = d * static_cast<float>(s0 + s1);
    out.sum16[2 * b] = s0;
    out.sum16[2 * b + 1] = s1;
    _mm256_storeu_ps(out.d8 + 8 * b, _mm256_set1_ps(d));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.bias8 + 8 * b),
                        _mm256_setr_epi32(-weight_offset * s0, 0, 0, 0, -weight_offset * s1, 0, 0, 0));
    out.bias1[b] = -weight_offset * (s0 + s1);
  }
}

}  // namespace ember
