// Small helpers shared by the AVX-512 (and AMX) translation units: row masks, 16-row
// gathers, 4-byte broadcasts, a per-thread scratch buffer and the token-group walk of the
// row-exact matmuls.
//
// Everything is in an anonymous namespace on purpose (as kernels/tile_walk.h): each ISA
// translation unit gets its own internal copy compiled with its flags, so the linker can
// never hand an AVX-512 instance to baseline code. Only AVX-512 translation units include it.
#ifndef EMBER_KERNELS_AVX512_LANES_H_
#define EMBER_KERNELS_AVX512_LANES_H_

#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/matmul.h"
#include "kernels/q8_activations.h"

namespace ember {
namespace {

inline int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }

// Lanes of the first n rows of a 16-row group (n may be <= 0 or > 16).
inline __mmask16 RowMask(int64_t n) {
  if (n <= 0) return 0;
  return n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
}

// One dword from each of 16 rows `row_bytes` apart (rows outside m read nothing, give 0).
inline __m512i GatherRows(const uint8_t* p, int64_t row_bytes, __mmask16 m) {
  const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(static_cast<int>(row_bytes)));
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, p, 1);
}

// 4 activation bytes in every 32-bit lane: the vpdpbusd operand against 16 rows.
inline __m512i Broadcast4(const int8_t* p) {
  int32_t four;
  std::memcpy(&four, p, 4);
  return _mm512_set1_epi32(four);
}

// A streaming kernel for exactly n tokens, 1 <= n <= max_group, indexed by n.
using TokenCountKernel = void (*)(const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                                  const Q8ActivationsView& x, float* y, int64_t y_stride);

// Row-exact matmul of any token count (kernels/kernel_table.h) from the decode kernels of up
// to max_group tokens, whose per-token arithmetic does not depend on their token count (one
// accumulator chain per token). Tokens run in groups, every group over the same chunk of
// rows (small enough for L2) before the next chunk, so the weights still come from memory
// once. row_begin and the chunks are whole 16-row panels.
inline void ForTokenGroups(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Q8ActivationsView& x,
                           float* y, int64_t y_stride, int max_group, const TokenCountKernel* by_count) {
  if (x.n_tokens <= max_group) {
    by_count[x.n_tokens](w, row_begin, row_end, x, y, y_stride);
    return;
  }
  constexpr int64_t kChunkBytes = 256 * 1024;
  int64_t chunk = kChunkBytes / (w.row_bytes > 0 ? w.row_bytes : 1);
  chunk = chunk < 16 ? 16 : chunk - chunk % 16;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += chunk) {
    const int64_t r1 = Min(row_end, r0 + chunk);
    for (int64_t t0 = 0; t0 < x.n_tokens; t0 += max_group) {
      const int64_t nt = Min(max_group, x.n_tokens - t0);
      by_count[nt](w, r0, r1, TokenRange(x, t0, nt), y + t0 * y_stride, y_stride);
    }
  }
}

// Grow-only, 64-byte aligned scratch, one per thread (the aligned operator new, a plain
// function: no library templates; std::aligned_alloc is missing from Windows' C runtime).
class AlignedScratch {
 public:
  ~AlignedScratch() { Free(); }
  uint8_t* Get(size_t bytes) {
    if (bytes > size_) {
      Free();
      size_ = (bytes + 63) / 64 * 64;
      data_ = static_cast<uint8_t*>(::operator new(size_, kAlignment, std::nothrow));
    }
    return data_;
  }

 private:
  static constexpr std::align_val_t kAlignment{64};
  void Free() {
    if (data_ != nullptr) ::operator delete(data_, kAlignment);
    data_ = nullptr;
  }
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace
}  // namespace ember

#endif  // EMBER_KERNELS_AVX512_LANES_H_
