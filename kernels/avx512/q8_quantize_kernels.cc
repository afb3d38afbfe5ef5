// AVX-512 twin of QuantizeQ8RowScalar (kernels/q8_activation_buffer.cc), two 32-value
// blocks (four registers) per step so that the horizontal work (amax, the sums of q) is
// shared between them. Bit-identical to the scalar twin: the same amax (max is exact in any
// order), the same scalar 127 / amax and amax / 127 divisions, the same float products,
// rounded half to even by vcvtps2dq in the default MXCSR mode, and the same fp16 rounding.
// Pairs with a NaN, an infinite amax or an amax so small that 127 / amax overflows (where
// the scalar twin's int8 casts of non-finite products matter), and an odd last block, go
// through the scalar twin itself. Internal linkage except the entry point.
// GCC 12 reports its own _mm512_undefined_* self-initialisations as uninitialised reads.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/q8_quantize_kernels.h"

namespace ember {
namespace {

// amax in (0, kMaxFinite]: 127 / amax is finite (or amax is 0), so every product is finite.
constexpr float kMinAmax = 127.0f / 3.4028234663852886e38f;

Q8RowOut Offset(const Q8RowOut& out, int64_t b) {
  return {out.q + 32 * b,     out.d + b,         out.dsum + b, out.sum16 + 2 * b,
          out.d8 + 8 * b,     out.bias8 + 8 * b, out.bias1 + b};
}

float Fp16Round(float f) { return _cvtsh_ss(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

// Blocks b and b + 1 of the row; false (nothing written) if the pair needs the scalar twin.
bool QuantizePair(const float* x, int weight_offset, const Q8RowOut& out) {
  const __m512 a0 = _mm512_loadu_ps(x), a1 = _mm512_loadu_ps(x + 16);
  const __m512 b0 = _mm512_loadu_ps(x + 32), b1 = _mm512_loadu_ps(x + 48);
  const __mmask16 nan = _mm512_cmp_ps_mask(a0, a1, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b0, b1, _CMP_UNORD_Q);
  // Both blocks' amax at once: halves of A and B side by side, then within 128-bit lanes,
  // then across lane pairs: f = [amax_a x 8 | amax_b x 8].
  const __m512 ma = _mm512_max_ps(_mm512_abs_ps(a0), _mm512_abs_ps(a1));
  const __m512 mb = _mm512_max_ps(_mm512_abs_ps(b0), _mm512_abs_ps(b1));
  __m512 m = _mm512_max_ps(_mm512_shuffle_f32x4(ma, mb, 0x44), _mm512_shuffle_f32x4(ma, mb, 0xEE));
  m = _mm512_max_ps(m, _mm512_permute_ps(m, 0x4E));
  m = _mm512_max_ps(m, _mm512_permute_ps(m, 0xB1));
  m = _mm512_max_ps(m, _mm512_shuffle_f32x4(m, m, 0xB1));
  const float amax_a = _mm512_cvtss_f32(m);
  const float amax_b = _mm_cvtss_f32(_mm512_extractf32x4_ps(m, 2));
  const auto ok = [](float amax) { return amax == 0.0f || (amax >= kMinAmax && amax <= 3.4028234663852886e38f); };
  if (nan != 0 || !ok(amax_a) || !ok(amax_b)) return false;

  const __m512 inv_a = _mm512_set1_ps(amax_a != 0.0f ? 127.0f / amax_a : 0.0f);
  const __m512 inv_b = _mm512_set1_ps(amax_b != 0.0f ? 127.0f / amax_b : 0.0f);
  // |products| <= 127 (+ rounding), so the saturating packs are exact. packs work within
  // 128-bit lanes; the permute puts the 4-value groups back in order.
  const __m512i qa0 = _mm512_cvtps_epi32(_mm512_mul_ps(a0, inv_a));
  const __m512i qa1 = _mm512_cvtps_epi32(_mm512_mul_ps(a1, inv_a));
  const __m512i qb0 = _mm512_cvtps_epi32(_mm512_mul_ps(b0, inv_b));
  const __m512i qb1 = _mm512_cvtps_epi32(_mm512_mul_ps(b1, inv_b));
  const __m512i packed = _mm512_packs_epi16(_mm512_packs_epi32(qa0, qa1), _mm512_packs_epi32(qb0, qb1));
  const __m512i q = _mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), packed);
  _mm512_storeu_si512(out.q, q);

  // Sums of 16 values: sad against 0 of q + 128 sums 8 bytes per 64-bit lane; adding the
  // neighbour lane leaves each 16-value sum (+ 16 * 128) in int32 lanes 0, 4, 8 and 12,
  // exactly where bias8 of the two blocks wants them.
  const __m512i sad = _mm512_sad_epu8(_mm512_xor_si512(q, _mm512_set1_epi8(-128)), _mm512_setzero_si512());
  const __m512i pair = _mm512_add_epi64(sad, _mm512_shuffle_epi32(sad, _MM_PERM_BADC));
  const __m512i s16 = _mm512_maskz_sub_epi32(0x1111, pair, _mm512_set1_epi32(16 * 128));
  _mm512_storeu_si512(out.bias8, _mm512_mullo_epi32(s16, _mm512_set1_epi32(-weight_offset)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.sum16),
                   _mm512_castsi512_si128(_mm512_maskz_compress_epi32(0x1111, s16)));
  const int32_t sa = out.sum16[0] + out.sum16[1], sb = out.sum16[2] + out.sum16[3];

  const float d_a = Fp16Round(amax_a / 127.0f), d_b = Fp16Round(amax_b / 127.0f);
  out.d[0] = d_a;
  out.d[1] = d_b;
  out.dsum[0] = d_a * static_cast<float>(sa);
  out.dsum[1] = d_b * static_cast<float>(sb);
  _mm256_storeu_ps(out.d8, _mm256_set1_ps(d_a));
  _mm256_storeu_ps(out.d8 + 8, _mm256_set1_ps(d_b));
  out.bias1[0] = -weight_offset * sa;
  out.bias1[1] = -weight_offset * sb;
  return true;
}

}  // namespace

void QuantizeQ8RowAvx512(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out) {
  int64_t b = 0;
  for (; b + 2 <= n_blocks; b += 2) {
    const Q8RowOut at = Offset(out, b);
    if (!QuantizePair(x + 32 * b, weight_offset, at)) QuantizeQ8RowScalar(x + 32 * b, 2, weight_offset, at);
  }
  if (b < n_blocks) QuantizeQ8RowScalar(x + 32 * b, 1, weight_offset, Offset(out, b));
}

}  // namespace ember
