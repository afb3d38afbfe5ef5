// Float -> quantized block conversion, for quantize-at-load of float checkpoints and for
// synthetic test/benchmark models. Round-to-nearest quantizers: Q8_0 and Q4_0 follow the
// published GGML reference formulas; the K-quants use a simple min/max fit per sub-block
// (correct and reasonably accurate, not the searched optimum of other tools).
#ifndef EMBER_KERNELS_QUANTIZE_H_
#define EMBER_KERNELS_QUANTIZE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "kernels/dtype.h"

namespace ember {

// Writes RowBytes(type, n) bytes to dst. Supports F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K,
// Q6_K; n must be a whole number of the type's blocks.
absl::Status QuantizeRow(DType type, const float* src, int64_t n, void* dst);

}  // namespace ember

#endif  // EMBER_KERNELS_QUANTIZE_H_
