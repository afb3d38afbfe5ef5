// Tiles (all 16 rows x 64 bytes): A0/A1 = 16 weight rows each x 32 bf16 values, B0/B1 = 16
// value pairs x 16 tokens x 2 bf16, C00..C11 = 16 weight rows x 16 tokens in float32. A
// 32-row panel is dequantized once into a bf16 scratch (row-major, so A tiles are plain
// strided loads) and reused by every 32-token tile.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/amx/amx_bf16_gemm.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "kernels/avx512/lanes.h"
#include "kernels/blocks.h"
#include "kernels/row_panels.h"

namespace ember {
namespace amx {
namespace {

// Tile registers. Macros, not constants: the intrinsics paste the number into the
// instruction text.
#define kC00 0
#define kC01 1
#define kC10 2
#define kC11 3
#define kA0 4
#define kA1 5
#define kB0 6
#define kB1 7

// Tile loads and stores with a 64-bit stride register. GCC's _tile_loadd/_tile_stored cast
// the stride to `long`, which is 32 bits where long is (Windows, LLP64), and a 32-bit
// register is no valid index next to a 64-bit base: the assembler rejects the result.
#define EMBER_TILE_LOADD(tile, base, stride) EMBER_TILE_LOADD_(tile, base, stride)
#define EMBER_TILE_LOADD_(tile, base, stride)                                                 \
  __asm__ volatile("{tileloadd\t(%0,%1,1), %%tmm" #tile "|tileloadd\t%%tmm" #tile ", [%0+%1*1]}" \
                   ::"r"((const void*)(base)), "r"((int64_t)(stride)))
#define EMBER_TILE_STORED(tile, base, stride) EMBER_TILE_STORED_(tile, base, stride)
#define EMBER_TILE_STORED_(tile, base, stride)                                                 \
  __asm__ volatile("{tilestored\t%%tmm" #tile ", (%0,%1,1)|tilestored\t[%0+%1*1], %%tmm" #tile "}" \
                   ::"r"((void*)(base)), "r"((int64_t)(stride))                                  \
                   : "memory")

constexpr int kPanel = 32;  // weight rows per A-tile pair
// Values per K chunk: the chunk of the activations (n_tokens x 1024 bf16, 512 KiB for 256
// tokens) stays in L2 while every panel of the thread's rows passes over it; without
// chunking, a 10240-value row (Phi-2's fc2) streamed 5 MiB of activations per panel from L3.
constexpr int64_t kChunkValues = 1024;

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

void ConfigureTiles() {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette = 1;
  for (int i = 0; i < 8; ++i) {
    cfg.rows[i] = 16;
    cfg.colsb[i] = 64;
  }
  // Not _tile_loadconfig: GCC 12 does not see that it reads cfg and drops the stores of
  // rows and colsb; an "m" operand makes the read explicit.
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// 32 int8 values times d, rounded to bf16, stored as 64 bytes.
inline void StoreScaledBf16(__m256i q, float d, uint16_t* dst) {
  const __m512 scale = _mm512_set1_ps(d);
  const __m512 lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))), scale);
  const __m512 hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))), scale);
  _mm512_store_si512(dst, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
}

// The 16 qs bytes of a Q4_0 block as its 32 signed values (low nibbles first).
inline __m256i UnpackQ4_0(__m128i qs) {
  const __m128i nib = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
  const __m128i lo = _mm_sub_epi8(_mm_and_si128(qs, nib), eight);
  const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(qs, 4), nib), eight);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

// ---- K-quants: a super-block's file bytes are rebuilt (panels: one dword gather per 16
// dwords), then decoded 32 values at a time. Products and differences use the explicitly
// rounded intrinsics so that the compiler cannot fuse them: each weight is
// bf16(float(q) * (d * sc) - dmin * m), the scalar dequantizer's float arithmetic.

inline __m512 MulNoFma(__m512 a, __m512 b) { return _mm512_mul_round_ps(a, b, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline __m512 SubNoFma(__m512 a, __m512 b) { return _mm512_sub_round_ps(a, b, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

// 32 unsigned 8-bit values q as bf16(q * s - m) (values 0-15 use s0/m0, 16-31 s1/m1).
inline void StoreAffineBf16(__m256i q, float s0, float s1, float m0, float m1, uint16_t* dst) {
  const __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(q)));
  const __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(q, 1)));
  const __m512 a = SubNoFma(MulNoFma(lo, _mm512_set1_ps(s0)), _mm512_set1_ps(m0));
  const __m512 b = SubNoFma(MulNoFma(hi, _mm512_set1_ps(s1)), _mm512_set1_ps(m1));
  _mm512_store_si512(dst, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a)));
}

// Q4_K (kHighBit false) / Q5_K: value 64 c + l (+32) is the low (high) nibble of qs[32 c + l]
// (plus, Q5_K, bit 2 c (2 c + 1) of qh[l] as bit 4), times d * sc[j] minus dmin * m[j].
template <bool kHighBit>
void DecodeQ45_KBf16(const uint8_t* blk, uint16_t* dst) {
  uint16_t hd, hm;
  std::memcpy(&hd, blk, 2);
  std::memcpy(&hm, blk + 2, 2);
  const float d = HalfToFloat(hd), dmin = HalfToFloat(hm);
  uint8_t sc[8], m[8];
  UnpackScalesMinsK(blk + 4, sc, m);
  const uint8_t* qs = blk + (kHighBit ? 48 : 16);
  const __m256i nib = _mm256_set1_epi8(0x0F);
  __m256i qh = _mm256_setzero_si256();
  if (kHighBit) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16));
  for (int c = 0; c < 4; ++c) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
    __m256i lo = _mm256_and_si256(q, nib), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
    if (kHighBit) {
      const __m256i one = _mm256_set1_epi8(1);
      lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
      hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
    }
    const float s_lo = d * static_cast<float>(sc[2 * c]), s_hi = d * static_cast<float>(sc[2 * c + 1]);
    const float m_lo = dmin * static_cast<float>(m[2 * c]), m_hi = dmin * static_cast<float>(m[2 * c + 1]);
    StoreAffineBf16(lo, s_lo, s_lo, m_lo, m_lo, dst + 64 * c);
    StoreAffineBf16(hi, s_hi, s_hi, m_hi, m_hi, dst + 64 * c + 32);
  }
}

// Q6_K: per 128-value half h and l < 32, values l, l+32, l+64, l+96 take ql[64h + l] low,
// ql[64h + l + 32] low, ql[64h + l] high, ql[64h + l + 32] high, with qh[32h + l] bits 0-1,
// 2-3, 4-5, 6-7 on top; weight = (q - 32) * (d * scales[e / 16]).
void DecodeQ6_KBf16(const uint8_t* blk, uint16_t* dst) {
  uint16_t hd;
  std::memcpy(&hd, blk + 208, 2);
  const float d = HalfToFloat(hd);
  const int8_t* scales = reinterpret_cast<const int8_t*>(blk + 192);
  const __m256i nib = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h));
    const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h + 32));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
    const __m256i low[4] = {_mm256_and_si256(ql0, nib), _mm256_and_si256(ql1, nib),
                            _mm256_and_si256(_mm256_srli_epi16(ql0, 4), nib),
                            _mm256_and_si256(_mm256_srli_epi16(ql1, 4), nib)};
    for (int g = 0; g < 4; ++g) {
      const __m256i high = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), three), 4);
      const __m256i q = _mm256_or_si256(low[g], high);  // 0..63; weight uses q - 32
      const int e = 128 * h + 32 * g;
      const float s0 = d * static_cast<float>(scales[e / 16]), s1 = d * static_cast<float>(scales[e / 16 + 1]);
      // (q - 32) * s computed as q * s - 32 * s would round differently: subtract first.
      const __m256i centred = _mm256_sub_epi8(q, _mm256_set1_epi8(32));
      const __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(centred)));
      const __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(centred, 1)));
      _mm512_store_si512(dst + e, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(MulNoFma(hi, _mm512_set1_ps(s1)),
                                                                               MulNoFma(lo, _mm512_set1_ps(s0)))));
    }
  }
}

// Super-blocks [s0, s1) of row `row` (a K-quant matrix) as bf16 values 256 s0 .. into dst.
void DequantizeKRowBf16(const WeightMatrix& w, int64_t row, int64_t s0, int64_t s1, uint16_t* dst) {
  alignas(64) uint8_t blk[256];
  const int64_t block_bytes = w.type == DType::kQ4_K ? 144 : w.type == DType::kQ5_K ? 176 : 210;
  for (int64_t s = s0; s < s1; ++s) {
    const uint8_t* src;
    if (w.layout == WeightLayout::kRowPanels16) {
      const uint8_t* panel = static_cast<const uint8_t*>(w.data) + (row / kRowPanelHeight) * PanelStride(w.type, w.cols);
      const int r = static_cast<int>(row % kRowPanelHeight);
      const uint8_t* slice = panel + PanelHeadBytes(w.type, w.cols) + s * PanelSliceBytes(w.type) + 4 * r;
      const int dwords = KQuantPanelDwords(w.type);
      const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(64));
      for (int i = 0; i < dwords; i += 16) {
        const __mmask16 m = dwords - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (dwords - i)) - 1);
        _mm512_mask_storeu_epi32(blk + 4 * i, m,
                                 _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, slice + 64 * i, 1));
      }
      if (w.type == DType::kQ6_K) std::memcpy(blk + 208, panel + 2 * (16 * s + r), 2);
      src = blk;
    } else {
      src = static_cast<const uint8_t*>(w.data) + row * w.row_bytes + s * block_bytes;
    }
    uint16_t* out = dst + 256 * (s - s0);
    if (w.type == DType::kQ4_K) {
      DecodeQ45_KBf16<false>(src, out);
    } else if (w.type == DType::kQ5_K) {
      DecodeQ45_KBf16<true>(src, out);
    } else {
      DecodeQ6_KBf16(src, out);
    }
  }
}

// Blocks [b0, b1) of row `row` of w (values 32 b0 .. 32 b1) as bf16 into dst.
void DequantizeRowBf16(const WeightMatrix& w, int64_t row, int64_t b0, int64_t b1, uint16_t* dst) {
  const int64_t nb = w.cols / 32;
  dst -= 32 * b0;
  const bool q8 = w.type == DType::kQ8_0;
  if (w.layout == WeightLayout::kRowPanels16) {
    const int64_t stride = PanelStride(w.type, w.cols), quant_bytes = PanelQuantBytes(w.type);
    const uint8_t* panel = static_cast<const uint8_t*>(w.data) + (row / kRowPanelHeight) * stride;
    const uint8_t* quants = panel + PanelScaleBytes(nb);
    const int r = static_cast<int>(row % kRowPanelHeight);
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(panel);
    // Row r's 4-byte groups sit 64 bytes apart in each block slice.
    const __m256i idx = _mm256_setr_epi32(0, 64, 128, 192, 256, 320, 384, 448);
    for (int64_t b = b0; b < b1; ++b) {
      const uint8_t* slice = quants + b * quant_bytes + 4 * r;
      const float d = HalfToFloat(scales[16 * b + r]);
      __m256i q;
      if (q8) {  // u = w + 128
        q = _mm256_xor_si256(_mm256_i32gather_epi32(reinterpret_cast<const int*>(slice), idx, 1),
                             _mm256_set1_epi8(static_cast<char>(0x80)));
      } else {  // the file's qs bytes
        q = UnpackQ4_0(_mm_i32gather_epi32(reinterpret_cast<const int*>(slice), _mm256_castsi256_si128(idx), 1));
      }
      StoreScaledBf16(q, d, dst + 32 * b);
    }
    return;
  }
  const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * w.row_bytes;
  for (int64_t b = b0; b < b1; ++b) {
    uint16_t h;
    if (q8) {
      const uint8_t* blk = src + b * static_cast<int64_t>(sizeof(BlockQ8_0));
      std::memcpy(&h, blk, 2);
      StoreScaledBf16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2)), HalfToFloat(h), dst + 32 * b);
    } else {
      const uint8_t* blk = src + b * static_cast<int64_t>(sizeof(BlockQ4_0));
      std::memcpy(&h, blk, 2);
      StoreScaledBf16(UnpackQ4_0(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2))), HalfToFloat(h),
                      dst + 32 * b);
    }
  }
}

}  // namespace

bool Bf16GemmSupports(const WeightMatrix& w) {
  if (IsKQuantPanel(w.type)) return w.cols % 256 == 0;
  return (w.type == DType::kQ8_0 || w.type == DType::kQ4_0) && w.cols % 32 == 0;
}

int64_t Bf16ActivationBytes(int64_t n_tokens, int64_t cols) {
  const int64_t padded = (n_tokens + kBf16TileTokens - 1) / kBf16TileTokens * kBf16TileTokens;
  return padded * cols * 2;
}

void PackActivationsBf16(const float* x, int64_t n_tokens, int64_t cols, uint16_t* dst) {
  const int64_t padded = (n_tokens + kBf16TileTokens - 1) / kBf16TileTokens * kBf16TileTokens;
  const int64_t pairs = cols / 2;
  static thread_local AlignedScratch rows_scratch;
  uint16_t* rows = reinterpret_cast<uint16_t*>(rows_scratch.Get(static_cast<size_t>(16 * cols * 2)));
  // Per 16-token group: round the rows to bf16, then transpose value pairs (dwords) so that
  // pair p of all 16 tokens is one 64-byte row.
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(cols * 2)));
  for (int64_t g = 0; g < padded / 16; ++g) {
    for (int t = 0; t < 16; ++t) {
      const int64_t token = 16 * g + t;
      uint16_t* out = rows + t * cols;
      if (token >= n_tokens) {
        std::memset(out, 0, static_cast<size_t>(cols * 2));
        continue;
      }
      const float* in = x + token * cols;
      for (int64_t c = 0; c < cols; c += 32) {
        const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(in + c + 16), _mm512_loadu_ps(in + c));
        _mm512_storeu_si512(out + c, reinterpret_cast<__m512i>(v));
      }
    }
    uint16_t* group = dst + g * pairs * 32;
    for (int64_t p = 0; p < pairs; ++p) {
      const __m512i col = _mm512_i32gather_epi32(idx, rows + 2 * p, 1);
      _mm512_store_si512(group + 32 * p, col);
    }
  }
}

void Bf16Gemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const uint16_t* x_packed,
              int64_t n_tokens, float* y, int64_t y_stride) {
  const int64_t cols = w.cols, pairs = cols / 2;
  const int64_t n_panels = (row_end - row_begin + kPanel - 1) / kPanel;
  const int64_t n_tiles = (n_tokens + kBf16TileTokens - 1) / kBf16TileTokens;
  static thread_local AlignedScratch weights_scratch, sums_scratch;
  // One K chunk of one 32-row panel, dequantized; and the float sums of every (panel, token
  // tile) as four 16 x 16 C tiles, kept across K chunks.
  uint16_t* a = reinterpret_cast<uint16_t*>(weights_scratch.Get(static_cast<size_t>(kPanel * kChunkValues * 2)));
  float* sums = reinterpret_cast<float*>(sums_scratch.Get(static_cast<size_t>(n_panels * n_tiles * 4 * 256 * 4)));
  ConfigureTiles();
  for (int64_t k0 = 0; k0 < cols; k0 += kChunkValues) {
    const int64_t k1 = cols - k0 < kChunkValues ? cols : k0 + kChunkValues, kc = k1 - k0;
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t r0 = row_begin + p * kPanel;
      const int64_t n_rows = row_end - r0 < kPanel ? row_end - r0 : kPanel;
      for (int64_t r = 0; r < kPanel; ++r) {
        if (r < n_rows) {
          if (IsKQuantPanel(w.type)) {
            DequantizeKRowBf16(w, r0 + r, k0 / 256, k1 / 256, a + r * kc);
          } else {
            DequantizeRowBf16(w, r0 + r, k0 / 32, k1 / 32, a + r * kc);
          }
        } else {
          std::memset(a + r * kc, 0, static_cast<size_t>(kc * 2));
        }
      }
      for (int64_t tt = 0; tt < n_tiles; ++tt) {
        float* c = sums + (p * n_tiles + tt) * 4 * 256;
        if (k0 == 0) {
          _tile_zero(kC00);
          _tile_zero(kC01);
          _tile_zero(kC10);
          _tile_zero(kC11);
        } else {
          EMBER_TILE_LOADD(kC00, c, 64);
          EMBER_TILE_LOADD(kC01, c + 256, 64);
          EMBER_TILE_LOADD(kC10, c + 512, 64);
          EMBER_TILE_LOADD(kC11, c + 768, 64);
        }
        const uint16_t* b0 = x_packed + 2 * tt * pairs * 32 + k0 * 16;
        const uint16_t* b1 = b0 + pairs * 32;
        for (int64_t k = 0; k < kc; k += 32) {
          EMBER_TILE_LOADD(kA0, a + k, kc * 2);
          EMBER_TILE_LOADD(kA1, a + 16 * kc + k, kc * 2);
          EMBER_TILE_LOADD(kB0, b0 + k * 16, 64);
          EMBER_TILE_LOADD(kB1, b1 + k * 16, 64);
          _tile_dpbf16ps(kC00, kA0, kB0);
          _tile_dpbf16ps(kC01, kA0, kB1);
          _tile_dpbf16ps(kC10, kA1, kB0);
          _tile_dpbf16ps(kC11, kA1, kB1);
        }
        EMBER_TILE_STORED(kC00, c, 64);
        EMBER_TILE_STORED(kC01, c + 256, 64);
        EMBER_TILE_STORED(kC10, c + 512, 64);
        EMBER_TILE_STORED(kC11, c + 768, 64);
      }
    }
  }
  _tile_release();
  // Tile (rh, th) of a panel's token tile holds weight rows 16 rh + r x tokens 16 th + t at
  // [2 rh + th][r][t]: column t is 16 floats 64 bytes apart, one gather per 16 rows.
  const __m512i rows16 = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(16));
  for (int64_t p = 0; p < n_panels; ++p) {
    const int64_t r0 = row_begin + p * kPanel;
    const int64_t n_rows = row_end - r0 < kPanel ? row_end - r0 : kPanel;
    const __mmask16 m0 = n_rows >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n_rows) - 1);
    const __mmask16 m1 = n_rows >= 32 ? 0xFFFF : n_rows <= 16 ? 0 : static_cast<__mmask16>((1u << (n_rows - 16)) - 1);
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* c = sums + (p * n_tiles + t / kBf16TileTokens) * 4 * 256;
      const int th = static_cast<int>(t % kBf16TileTokens / 16), tc = static_cast<int>(t % 16);
      float* yt = y + t * y_stride + r0;
      _mm512_mask_storeu_ps(yt, m0, _mm512_i32gather_ps(rows16, c + th * 256 + tc, 4));
      if (m1 != 0) _mm512_mask_storeu_ps(yt + 16, m1, _mm512_i32gather_ps(rows16, c + (2 + th) * 256 + tc, 4));
    }
  }
}

}  // namespace amx
}  // namespace ember
