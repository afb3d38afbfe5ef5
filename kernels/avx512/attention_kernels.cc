// AVX-512 attention kernels. A head's `dim` values are handled as chunks of 16 lanes, the
// last one masked, so any head size works; up to 8 chunks (head_dim <= 128) the query or
// the accumulator of a head stays in registers for the whole row stream. Everything here
// has internal linkage: an inline function shared with baseline code (fp16.h, std::
// templates) could reach baseline callers compiled for AVX-512.
// GCC 12 reports its own _mm512_undefined_* self-initialisations as uninitialised reads.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/attention_kernels.h"

namespace ember {
namespace {

constexpr int kMaxRegChunks = 8;

__mmask16 ChunkMask(int remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF)
                         : static_cast<__mmask16>((1u << remaining) - 1u);
}

struct F32Rows {
  using T = float;
  static __m512 Load(const T* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct F16Rows {
  using T = uint16_t;
  static __m512 Load(const T* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct Bf16Rows {
  using T = uint16_t;
  // bfloat16 is the top half of a float32.
  static __m512 Load(const T* p, __mmask16 m) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
};

// Rows with 16 * (C - 1) < dim <= 16 * C; 8 rows at a time give 8 independent FMA chains.
template <typename L, int C>
void DotFixed(const float* q, const typename L::T* rows, int64_t stride, int64_t n, int dim,
              float scale, float* scores) {
  __mmask16 m[C];
  __m512 qv[C];
  #pragma GCC unroll 16
  for (int c = 0; c < C; ++c) {
    m[c] = ChunkMask(dim - 16 * c);
    qv[c] = _mm512_maskz_loadu_ps(m[c], q + 16 * c);
  }
  constexpr int kRows = 8;
  int64_t j = 0;
  for (; j + kRows <= n; j += kRows) {
    __m512 s[kRows];
    #pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) s[r] = _mm512_setzero_ps();
    #pragma GCC unroll 16
    for (int c = 0; c < C; ++c) {
      #pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r) {
        s[r] = _mm512_fmadd_ps(qv[c], L::Load(rows + (j + r) * stride + 16 * c, m[c]), s[r]);
      }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) scores[j + r] = _mm512_reduce_add_ps(s[r]) * scale;
  }
  for (; j < n; ++j) {
    __m512 s = _mm512_setzero_ps();
    #pragma GCC unroll 16
    for (int c = 0; c < C; ++c) s = _mm512_fmadd_ps(qv[c], L::Load(rows + j * stride + 16 * c, m[c]), s);
    scores[j] = _mm512_reduce_add_ps(s) * scale;
  }
}

// Any dim: the query is re-read from L1 for every chunk.
template <typename L>
void DotAnyDim(const float* q, const typename L::T* rows, int64_t stride, int64_t n, int dim,
               float scale, float* scores) {
  for (int64_t j = 0; j < n; ++j) {
    __m512 s = _mm512_setzero_ps();
    for (int i = 0; i < dim; i += 16) {
      const __mmask16 m = ChunkMask(dim - i);
      s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), L::Load(rows + j * stride + i, m), s);
    }
    scores[j] = _mm512_reduce_add_ps(s) * scale;
  }
}

template <typename L>
void Dot(const float* q, const void* rows_v, int64_t stride, int64_t n, int dim, float scale,
         float* scores) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  switch ((dim + 15) / 16) {
    case 1: return DotFixed<L, 1>(q, rows, stride, n, dim, scale, scores);
    case 2: return DotFixed<L, 2>(q, rows, stride, n, dim, scale, scores);
    case 3: return DotFixed<L, 3>(q, rows, stride, n, dim, scale, scores);
    case 4: return DotFixed<L, 4>(q, rows, stride, n, dim, scale, scores);
    case 5: return DotFixed<L, 5>(q, rows, stride, n, dim, scale, scores);
    case 6: return DotFixed<L, 6>(q, rows, stride, n, dim, scale, scores);
    case 7: return DotFixed<L, 7>(q, rows, stride, n, dim, scale, scores);
    case 8: return DotFixed<L, 8>(q, rows, stride, n, dim, scale, scores);
    default: return DotAnyDim<L>(q, rows, stride, n, dim, scale, scores);
  }
}

// acc[0, dim) += sum_j w[j] row_j for dim <= 16 * C; two rows at a time into two
// accumulator sets, so consecutive FMAs on one chunk do not wait for each other.
template <typename L, int C>
void AccumulateFixed(const float* w, const typename L::T* rows, int64_t stride, int64_t n,
                     int dim, float* acc) {
  __mmask16 m[C];
  __m512 a[C], b[C];
  #pragma GCC unroll 16
  for (int c = 0; c < C; ++c) {
    m[c] = ChunkMask(dim - 16 * c);
    a[c] = _mm512_maskz_loadu_ps(m[c], acc + 16 * c);
    b[c] = _mm512_setzero_ps();
  }
  int64_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const __m512 w0 = _mm512_set1_ps(w[j]), w1 = _mm512_set1_ps(w[j + 1]);
    const typename L::T* r0 = rows + j * stride;
    const typename L::T* r1 = r0 + stride;
    #pragma GCC unroll 16
    for (int c = 0; c < C; ++c) {
      a[c] = _mm512_fmadd_ps(w0, L::Load(r0 + 16 * c, m[c]), a[c]);
      b[c] = _mm512_fmadd_ps(w1, L::Load(r1 + 16 * c, m[c]), b[c]);
    }
  }
  if (j < n) {
    const __m512 w0 = _mm512_set1_ps(w[j]);
    #pragma GCC unroll 16
    for (int c = 0; c < C; ++c) a[c] = _mm512_fmadd_ps(w0, L::Load(rows + j * stride + 16 * c, m[c]), a[c]);
  }
  #pragma GCC unroll 16
  for (int c = 0; c < C; ++c) _mm512_mask_storeu_ps(acc + 16 * c, m[c], _mm512_add_ps(a[c], b[c]));
}

template <typename L>
void Accumulate(const float* w, const void* rows_v, int64_t stride, int64_t n, int dim, float* acc) {
  const auto* rows = static_cast<const typename L::T*>(rows_v);
  // Heads wider than 128 go in slices of 128 columns.
  for (; dim > 16 * kMaxRegChunks; dim -= 16 * kMaxRegChunks) {
    AccumulateFixed<L, kMaxRegChunks>(w, rows, stride, n, 16 * kMaxRegChunks, acc);
    rows += 16 * kMaxRegChunks;
    acc += 16 * kMaxRegChunks;
  }
  switch ((dim + 15) / 16) {
    case 1: return AccumulateFixed<L, 1>(w, rows, stride, n, dim, acc);
    case 2: return AccumulateFixed<L, 2>(w, rows, stride, n, dim, acc);
    case 3: return AccumulateFixed<L, 3>(w, rows, stride, n, dim, acc);
    case 4: return AccumulateFixed<L, 4>(w, rows, stride, n, dim, acc);
    case 5: return AccumulateFixed<L, 5>(w, rows, stride, n, dim, acc);
    case 6: return AccumulateFixed<L, 6>(w, rows, stride, n, dim, acc);
    case 7: return AccumulateFixed<L, 7>(w, rows, stride, n, dim, acc);
    case 8: return AccumulateFixed<L, 8>(w, rows, stride, n, dim, acc);
    default: return;
  }
}

// Four queries against the same rows: each row chunk is loaded once for all four. Per
// (query, row) the FMA order and the final reduction are exactly DotFixed's, so the scores
// equal four Dot calls bit for bit. Two rows at a time keep 8 FMA chains in flight.
template <typename L>
void Dot4(const float* q, int64_t q_stride, const void* rows_v, int64_t stride, int64_t n, int dim,
          float scale, float* scores, int64_t scores_stride) {
  const typename L::T* rows = static_cast<const typename L::T*>(rows_v);
  const int chunks = (dim + 15) / 16;
  int64_t j = 0;
  for (; j + 2 <= n; j += 2) {
    __m512 s[8];
    #pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) s[i] = _mm512_setzero_ps();
    for (int c = 0; c < chunks; ++c) {
      const __mmask16 m = ChunkMask(dim - 16 * c);
      const __m512 k0 = L::Load(rows + j * stride + 16 * c, m);
      const __m512 k1 = L::Load(rows + (j + 1) * stride + 16 * c, m);
      #pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m512 qv = _mm512_maskz_loadu_ps(m, q + i * q_stride + 16 * c);
        s[2 * i] = _mm512_fmadd_ps(qv, k0, s[2 * i]);
        s[2 * i + 1] = _mm512_fmadd_ps(qv, k1, s[2 * i + 1]);
      }
    }
    #pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      scores[i * scores_stride + j] = _mm512_reduce_add_ps(s[2 * i]) * scale;
      scores[i * scores_stride + j + 1] = _mm512_reduce_add_ps(s[2 * i + 1]) * scale;
    }
  }
  for (; j < n; ++j) {
    __m512 s[4];
    #pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) s[i] = _mm512_setzero_ps();
    for (int c = 0; c < chunks; ++c) {
      const __mmask16 m = ChunkMask(dim - 16 * c);
      const __m512 k0 = L::Load(rows + j * stride + 16 * c, m);
      #pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) s[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i * q_stride + 16 * c), k0, s[i]);
    }
    #pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) scores[i * scores_stride + j] = _mm512_reduce_add_ps(s[i]) * scale;
  }
}

// Four weight rows against the same value rows, one 16-lane chunk of the head at a time
// (every chunk of a row is its own cache line, so the rows are still read once). Per
// (query, chunk) the order is AccumulateFixed's — even rows into one sum, odd rows into
// another, added at the end — so results equal four Accumulate calls bit for bit.
template <typename L>
void Accumulate4(const float* w, int64_t w_stride, const void* rows_v, int64_t stride, int64_t n, int dim,
                 float* acc, int64_t acc_stride) {
  const typename L::T* rows = static_cast<const typename L::T*>(rows_v);
  for (int c = 0; 16 * c < dim; ++c) {
    const __mmask16 m = ChunkMask(dim - 16 * c);
    __m512 a[4], b[4];
    #pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      a[i] = _mm512_maskz_loadu_ps(m, acc + i * acc_stride + 16 * c);
      b[i] = _mm512_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
      const __m512 v0 = L::Load(rows + j * stride + 16 * c, m);
      const __m512 v1 = L::Load(rows + (j + 1) * stride + 16 * c, m);
      #pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        a[i] = _mm512_fmadd_ps(_mm512_set1_ps(w[i * w_stride + j]), v0, a[i]);
        b[i] = _mm512_fmadd_ps(_mm512_set1_ps(w[i * w_stride + j + 1]), v1, b[i]);
      }
    }
    if (j < n) {
      const __m512 v0 = L::Load(rows + j * stride + 16 * c, m);
      #pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) a[i] = _mm512_fmadd_ps(_mm512_set1_ps(w[i * w_stride + j]), v0, a[i]);
    }
    #pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) _mm512_mask_storeu_ps(acc + i * acc_stride + 16 * c, m, _mm512_add_ps(a[i], b[i]));
  }
}

void StoreF32(const float* src, int64_t n, void* dst) {
  float* out = static_cast<float*>(dst);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = ChunkMask(static_cast<int>(n - i < 16 ? n - i : 16));
    _mm512_mask_storeu_ps(out + i, m, _mm512_maskz_loadu_ps(m, src + i));
  }
}

void StoreF16(const float* src, int64_t n, void* dst) {
  uint16_t* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = ChunkMask(static_cast<int>(n - i < 16 ? n - i : 16));
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_mask_storeu_epi16(out + i, m, h);
  }
}

// Round to nearest even on the top 16 bits; NaNs stay quiet NaNs (as FloatToBf16).
void StoreBf16(const float* src, int64_t n, void* dst) {
  uint16_t* out = static_cast<uint16_t*>(dst);
  const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7FFF);
  const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = ChunkMask(static_cast<int>(n - i < 16 ? n - i : 16));
    const __m512i x = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, src + i));
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(x, 16), one);
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(bias, odd)), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, abs_mask), inf);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40)));
    _mm256_mask_storeu_epi16(out + i, m, _mm512_cvtepi32_epi16(r));
  }
}

// exp(x) for x <= 0: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by its degree-6 Taylor
// polynomial (relative error < 2e-7), times 2^n by scalef (which underflows cleanly to 0).
__m512 ExpNonPositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));  // exp(-104) is 0 in float; avoids -inf - -inf
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

float ExpSum(float* x, int64_t n, float max) {
  const __m512 vmax = _mm512_set1_ps(max);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = ChunkMask(static_cast<int>(n - j < 16 ? n - j : 16));
    const __m512 e = ExpNonPositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), vmax));
    _mm512_mask_storeu_ps(x + j, m, e);
    sum = _mm512_mask_add_ps(sum, m, sum, e);
  }
  return _mm512_reduce_add_ps(sum);
}

}  // namespace

const AttentionKernelTable& Avx512AttentionKernels() {
  static const AttentionKernelTable table{
      {Dot<F32Rows>, Accumulate<F32Rows>, Dot4<F32Rows>, Accumulate4<F32Rows>, StoreF32},
      {Dot<F16Rows>, Accumulate<F16Rows>, Dot4<F16Rows>, Accumulate4<F16Rows>, StoreF16},
      {Dot<Bf16Rows>, Accumulate<Bf16Rows>, Dot4<Bf16Rows>, Accumulate4<Bf16Rows>, StoreBf16},
      ExpSum};
  return table;
}

}  // namespace ember
