// Byte layouts of the GGML quantized block formats (public facts of the GGUF format) and
// the small decoding helpers every kernel shares. Helpers are `static inline` on purpose:
// this header is also compiled into the AVX2/AVX-512 translation units, and functions with
// external linkage would let the linker pick an ISA-specific copy for baseline callers.
#ifndef EMBER_KERNELS_BLOCKS_H_
#define EMBER_KERNELS_BLOCKS_H_

#include <cstdint>
#include <cstring>

namespace ember {

inline constexpr int kQ8Block = 32;   // elements per Q8_0 / Q4_0 block
inline constexpr int kKBlock = 256;   // elements per K-quant super-block

// value[i] = d * qs[i]
struct BlockQ8_0 {
  uint16_t d;  // fp16
  int8_t qs[32];
};

// value[i] = d * (nibble[i] - 8); qs[j] low nibble is element j, high nibble element j+16.
struct BlockQ4_0 {
  uint16_t d;  // fp16
  uint8_t qs[16];
};

// Eight 32-element sub-blocks with 6-bit scale sc and min m each:
// value = d * sc * q - dmin * m, q in [0, 15]. In every 64-element chunk c, qs[32c + l]
// holds element 64c + l in its low nibble and element 64c + 32 + l in its high nibble.
struct BlockQ4_K {
  uint16_t d;     // fp16
  uint16_t dmin;  // fp16
  uint8_t scales[12];
  uint8_t qs[128];
};

// As Q4_K with a fifth bit per value: element 64c + l takes bit 2c of qh[l], element
// 64c + 32 + l bit 2c + 1; q in [0, 31].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};

// Sixteen 16-element sub-blocks with int8 scales: value = d * scales[e / 16] * (q - 32),
// q in [0, 63]. Each 128-element half h uses ql[64h ..], qh[32h ..]; for l in [0, 32):
// element l: ql[l] low, qh[l] bits 0-1; l+32: ql[l+32] low, bits 2-3;
// l+64: ql[l] high, bits 4-5; l+96: ql[l+32] high, bits 6-7.
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// The eight 6-bit (scale, min) pairs of a Q4_K/Q5_K super-block. Sub-blocks 0-3 keep them
// in the low 6 bits of bytes 0-3 / 4-7; sub-blocks 4-7 keep their low 4 bits in bytes
// 8-11 and their top 2 bits in the spare top bits of bytes 0-3 / 4-7.
static inline void UnpackScalesMinsK(const uint8_t* s, uint8_t sc[8], uint8_t m[8]) {
  // Four bytes at a time (SWAR): this runs once per super-block per row in decode.
  uint32_t a, b, c;
  std::memcpy(&a, s, 4);
  std::memcpy(&b, s + 4, 4);
  std::memcpy(&c, s + 8, 4);
  const uint32_t sc_lo = a & 0x3F3F3F3Fu, m_lo = b & 0x3F3F3F3Fu;
  // Top two bits of each byte of a / b move to bits 4-5.
  const uint32_t sc_hi = (c & 0x0F0F0F0Fu) | ((a >> 2) & 0x30303030u);
  const uint32_t m_hi = ((c >> 4) & 0x0F0F0F0Fu) | ((b >> 2) & 0x30303030u);
  std::memcpy(sc, &sc_lo, 4);
  std::memcpy(sc + 4, &sc_hi, 4);
  std::memcpy(m, &m_lo, 4);
  std::memcpy(m + 4, &m_hi, 4);
}

static inline void PackScalesMinsK(const uint8_t sc[8], const uint8_t m[8], uint8_t s[12]) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
  }
}

}  // namespace ember

#endif  // EMBER_KERNELS_BLOCKS_H_
