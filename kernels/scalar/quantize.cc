#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"

namespace ember {
namespace {

int Nearest(float v) { return static_cast<int>(std::nearbyint(v)); }

void QuantizeQ8_0(const float* x, BlockQ8_0* out) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  out->d = FloatToFp16(d);
  for (int i = 0; i < 32; ++i) out->qs[i] = static_cast<int8_t>(std::round(x[i] * id));
}

void QuantizeQ4_0(const float* x, BlockQ4_0* out) {
  // The signed value of largest magnitude maps to -8, so the full range [-8, 7] is used.
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < 32; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  out->d = FloatToFp16(d);
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, static_cast<int>(x[j] * id + 8.5f));
    const int hi = std::min(15, static_cast<int>(x[j + 16] * id + 8.5f));
    out->qs[j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

// Q4_K / Q5_K: per 32-value sub-block fit [min, max] (min <= 0) to q in [0, qmax], then
// quantize the eight scales and mins to 6 bits against fp16 super-block factors.
void FitScalesMinsK(const float* x, int qmax, uint16_t* d16, uint16_t* dmin16, uint8_t scales[12],
                    uint8_t v[256]) {
  float scale[8], mins[8], max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    float lo = 0.0f, hi = -INFINITY;
    for (int i = 0; i < 32; ++i) {
      lo = std::min(lo, x[32 * j + i]);
      hi = std::max(hi, x[32 * j + i]);
    }
    scale[j] = std::max(0.0f, hi - lo) / static_cast<float>(qmax);
    mins[j] = -lo;
    max_scale = std::max(max_scale, scale[j]);
    max_min = std::max(max_min, mins[j]);
  }
  *d16 = FloatToFp16(max_scale / 63.0f);
  *dmin16 = FloatToFp16(max_min / 63.0f);
  const float d = Fp16ToFloat(*d16), dmin = Fp16ToFloat(*dmin16);
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(d > 0.0f ? std::clamp(Nearest(scale[j] / d), 0, 63) : 0);
    m[j] = static_cast<uint8_t>(dmin > 0.0f ? std::clamp(Nearest(mins[j] / dmin), 0, 63) : 0);
    const float step = d * static_cast<float>(sc[j]);
    const float offset = dmin * static_cast<float>(m[j]);
    for (int i = 0; i < 32; ++i) {
      const int q = step > 0.0f ? Nearest((x[32 * j + i] + offset) / step) : 0;
      v[32 * j + i] = static_cast<uint8_t>(std::clamp(q, 0, qmax));
    }
  }
  PackScalesMinsK(sc, m, scales);
}

void QuantizeQ4_K(const float* x, BlockQ4_K* out) {
  uint8_t v[256];
  FitScalesMinsK(x, 15, &out->d, &out->dmin, out->scales, v);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      out->qs[32 * c + l] = static_cast<uint8_t>(v[64 * c + l] | (v[64 * c + 32 + l] << 4));
    }
  }
}

void QuantizeQ5_K(const float* x, BlockQ5_K* out) {
  uint8_t v[256];
  FitScalesMinsK(x, 31, &out->d, &out->dmin, out->scales, v);
  std::memset(out->qh, 0, sizeof(out->qh));
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int lo = v[64 * c + l], hi = v[64 * c + 32 + l];
      out->qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      out->qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
    }
  }
}

void QuantizeQ6_K(const float* x, BlockQ6_K* out) {
  float scale[16], max_scale = 0.0f;
  for (int j = 0; j < 16; ++j) {
    float amax = 0.0f;
    for (int i = 0; i < 16; ++i) amax = std::max(amax, std::fabs(x[16 * j + i]));
    scale[j] = amax / 31.0f;
    max_scale = std::max(max_scale, scale[j]);
  }
  out->d = FloatToFp16(max_scale / 127.0f);
  const float d = Fp16ToFloat(out->d);
  uint8_t v[256];
  for (int j = 0; j < 16; ++j) {
    const int sc = d > 0.0f ? std::clamp(Nearest(scale[j] / d), 0, 127) : 0;
    out->scales[j] = static_cast<int8_t>(sc);
    const float step = d * static_cast<float>(sc);
    for (int i = 0; i < 16; ++i) {
      const int q = step > 0.0f ? Nearest(x[16 * j + i] / step) : 0;
      v[16 * j + i] = static_cast<uint8_t>(std::clamp(q, -32, 31) + 32);
    }
  }
  for (int h = 0; h < 2; ++h) {
    const uint8_t* vh = v + 128 * h;
    for (int l = 0; l < 32; ++l) {
      out->ql[64 * h + l] = static_cast<uint8_t>((vh[l] & 0x0F) | ((vh[l + 64] & 0x0F) << 4));
      out->ql[64 * h + l + 32] =
          static_cast<uint8_t>((vh[l + 32] & 0x0F) | ((vh[l + 96] & 0x0F) << 4));
      out->qh[32 * h + l] = static_cast<uint8_t>((vh[l] >> 4) | ((vh[l + 32] >> 4) << 2) |
                                                 ((vh[l + 64] >> 4) << 4) | ((vh[l + 96] >> 4) << 6));
    }
  }
}

template <typename Block, void (*kQuantizeBlock)(const float*, Block*)>
void QuantizeBlocks(const float* src, int64_t n, int block_elems, void* dst) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n / block_elems; ++b) {
    Block blk;
    kQuantizeBlock(src + b * block_elems, &blk);
    std::memcpy(out + b * sizeof(Block), &blk, sizeof(Block));
  }
}

}  // namespace

absl::Status QuantizeRow(DType type, const float* src, int64_t n, void* dst) {
  const DTypeTraits* traits = GetDTypeTraits(static_cast<uint32_t>(type));
  if (traits == nullptr) return absl::InvalidArgumentError("QuantizeRow: unknown type id");
  if (RowBytes(type, n) < 0) {
    return absl::InvalidArgumentError(absl::StrCat("QuantizeRow: ", n, " values is not a whole number of ",
                                                   traits->block_elems, "-value ", traits->name.data(),
                                                   " blocks"));
  }
  auto* out = static_cast<uint8_t*>(dst);
  switch (type) {
    case DType::kF32:
      std::memcpy(out, src, static_cast<size_t>(n) * 4);
      return absl::OkStatus();
    case DType::kF16:
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = type == DType::kF16 ? FloatToFp16(src[i]) : FloatToBf16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return absl::OkStatus();
    case DType::kQ8_0: QuantizeBlocks<BlockQ8_0, QuantizeQ8_0>(src, n, 32, dst); break;
    case DType::kQ4_0: QuantizeBlocks<BlockQ4_0, QuantizeQ4_0>(src, n, 32, dst); break;
    case DType::kQ4_K: QuantizeBlocks<BlockQ4_K, QuantizeQ4_K>(src, n, 256, dst); break;
    case DType::kQ5_K: QuantizeBlocks<BlockQ5_K, QuantizeQ5_K>(src, n, 256, dst); break;
    case DType::kQ6_K: QuantizeBlocks<BlockQ6_K, QuantizeQ6_K>(src, n, 256, dst); break;
    default:
      return absl::UnimplementedError(
          absl::StrCat("QuantizeRow: no quantizer for type ", traits->name.data()));
  }
  return absl::OkStatus();
}

}  // namespace ember
