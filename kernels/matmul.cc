// Placeholder routing until the ISA-specific kernels land: every type goes through the
// scalar reference (dequantize a row, dot in float). kernels/dispatch will replace this.
#include "kernels/matmul.h"

#include <cstring>
#include <vector>

#include "kernels/fp16.h"

namespace ember {

void DequantizeRow(const WeightMatrix& w, int64_t row, float* dst) {
  const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * w.row_bytes;
  switch (w.type) {
    case DType::kF32:
      for (int64_t c = 0; c < w.cols; ++c) {
        float v;
        std::memcpy(&v, src + 4 * c, 4);
        dst[c] = v;
      }
      break;
    case DType::kF16:
      for (int64_t c = 0; c < w.cols; ++c) {
        uint16_t h;
        std::memcpy(&h, src + 2 * c, 2);
        dst[c] = Fp16ToFloat(h);
      }
      break;
    case DType::kBF16:
      for (int64_t c = 0; c < w.cols; ++c) {
        uint16_t h;
        std::memcpy(&h, src + 2 * c, 2);
        dst[c] = Bf16ToFloat(h);
      }
      break;
    default:
      for (int64_t c = 0; c < w.cols; ++c) dst[c] = 0.0f;  // not reached: loaders reject
      break;
  }
}

void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par) {
  par.For(w.rows, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = begin; r < end; ++r) {
      DequantizeRow(w, r, row.data());
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * w.cols;
        float acc = 0.0f;
        for (int64_t c = 0; c < w.cols; ++c) acc += row[c] * xt[c];
        y[t * w.rows + r] = acc;
      }
    }
  });
}

}  // namespace ember
