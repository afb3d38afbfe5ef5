// Small helpers shared by the AVX-512 (and AMX) translation units: row masks, 16-row
// gathers, 4-byte broadcasts and a per-thread scratch buffer.
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

// Grow-only, 64-byte aligned scratch, one per thread (plain malloc: no library templates).
class AlignedScratch {
 public:
  ~AlignedScratch() { std::free(data_); }
  uint8_t* Get(size_t bytes) {
    if (bytes > size_) {
      std::free(data_);
      size_ = (bytes + 63) / 64 * 64;
      data_ = static_cast<uint8_t*>(std::aligned_alloc(64, size_));
    }
    return data_;
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace
}  // namespace ember

#endif  // EMBER_KERNELS_AVX512_LANES_H_
