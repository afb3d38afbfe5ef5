#include "kernels/scalar/decode_row.h"

#include <cstring>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/fp16.h"

namespace ember::scalar {
namespace {

template <typename Block>
Block LoadBlock(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof(Block));  // rows need not be aligned
  return b;
}

void DecodeQ8_0(const uint8_t* src, int64_t nb, int8_t* vals, float* scale16, float* min32) {
  for (int64_t b = 0; b < nb; ++b) {
    const auto blk = LoadBlock<BlockQ8_0>(src + b * sizeof(BlockQ8_0));
    const float d = Fp16ToFloat(blk.d);
    for (int i = 0; i < 32; ++i) vals[32 * b + i] = blk.qs[i];
    scale16[2 * b] = scale16[2 * b + 1] = d;
    min32[b] = 0.0f;
  }
}

void DecodeQ4_0(const uint8_t* src, int64_t nb, int8_t* vals, float* scale16, float* min32) {
  for (int64_t b = 0; b < nb; ++b) {
    const auto blk = LoadBlock<BlockQ4_0>(src + b * sizeof(BlockQ4_0));
    const float d = Fp16ToFloat(blk.d);
    for (int j = 0; j < 16; ++j) {
      vals[32 * b + j] = static_cast<int8_t>((blk.qs[j] & 0x0F) - 8);
      vals[32 * b + j + 16] = static_cast<int8_t>((blk.qs[j] >> 4) - 8);
    }
    scale16[2 * b] = scale16[2 * b + 1] = d;
    min32[b] = 0.0f;
  }
}

// Q4_K and Q5_K share scales and layout; Q5_K adds the fifth bit from qh.
template <typename Block, bool kHasHighBit>
void DecodeQ45_K(const uint8_t* src, int64_t nsb, int8_t* vals, float* scale16, float* min32) {
  for (int64_t s = 0; s < nsb; ++s) {
    const auto blk = LoadBlock<Block>(src + s * sizeof(Block));
    const float d = Fp16ToFloat(blk.d);
    const float dmin = Fp16ToFloat(blk.dmin);
    uint8_t sc[8], m[8];
    UnpackScalesMinsK(blk.scales, sc, m);
    int8_t* v = vals + 256 * s;
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        int lo = blk.qs[32 * c + l] & 0x0F;
        int hi = blk.qs[32 * c + l] >> 4;
        if constexpr (kHasHighBit) {
          lo |= ((blk.qh[l] >> (2 * c)) & 1) << 4;
          hi |= ((blk.qh[l] >> (2 * c + 1)) & 1) << 4;
        }
        v[64 * c + l] = static_cast<int8_t>(lo);
        v[64 * c + 32 + l] = static_cast<int8_t>(hi);
      }
    }
    for (int j = 0; j < 8; ++j) {
      scale16[16 * s + 2 * j] = scale16[16 * s + 2 * j + 1] = d * static_cast<float>(sc[j]);
      min32[8 * s + j] = dmin * static_cast<float>(m[j]);
    }
  }
}

void DecodeQ6_K(const uint8_t* src, int64_t nsb, int8_t* vals, float* scale16, float* min32) {
  for (int64_t s = 0; s < nsb; ++s) {
    const auto blk = LoadBlock<BlockQ6_K>(src + s * sizeof(BlockQ6_K));
    const float d = Fp16ToFloat(blk.d);
    int8_t* v = vals + 256 * s;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk.ql + 64 * h;
      const uint8_t* qh = blk.qh + 32 * h;
      int8_t* vh = v + 128 * h;
      for (int l = 0; l < 32; ++l) {
        vh[l] = static_cast<int8_t>(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
        vh[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
        vh[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        vh[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    for (int j = 0; j < 16; ++j) scale16[16 * s + j] = d * static_cast<float>(blk.scales[j]);
    for (int j = 0; j < 8; ++j) min32[8 * s + j] = 0.0f;
  }
}

}  // namespace

void DecodeQuantRow(DType type, const void* src_v, int64_t n, int8_t* vals, float* scale16,
                    float* min32) {
  const auto* src = static_cast<const uint8_t*>(src_v);
  switch (type) {
    case DType::kQ8_0: DecodeQ8_0(src, n / 32, vals, scale16, min32); break;
    case DType::kQ4_0: DecodeQ4_0(src, n / 32, vals, scale16, min32); break;
    case DType::kQ4_K: DecodeQ45_K<BlockQ4_K, false>(src, n / 256, vals, scale16, min32); break;
    case DType::kQ5_K: DecodeQ45_K<BlockQ5_K, true>(src, n / 256, vals, scale16, min32); break;
    case DType::kQ6_K: DecodeQ6_K(src, n / 256, vals, scale16, min32); break;
    default: break;
  }
}

void DequantizeRow(DType type, const void* src_v, int64_t n, float* dst) {
  const auto* src = static_cast<const uint8_t*>(src_v);
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = type == DType::kF16 ? Fp16ToFloat(h) : Bf16ToFloat(h);
      }
      return;
    default:
      break;
  }
  std::vector<int8_t> vals(static_cast<size_t>(n));
  std::vector<float> scale16(static_cast<size_t>(n / 16)), min32(static_cast<size_t>(n / 32));
  DecodeQuantRow(type, src, n, vals.data(), scale16.data(), min32.data());
  for (int64_t i = 0; i < n; ++i) {
    dst[i] = static_cast<float>(vals[i]) * scale16[i / 16] - min32[i / 32];
  }
}

}  // namespace ember::scalar
