// Scalar decoding of one quantized weight row into signed integer values plus the float
// factors that turn them into weights: w[i] = vals[i] * scale16[i / 16] - min32[i / 32].
// This is the reference for both the dequantizer and the scalar int8 matmul twin.
#ifndef EMBER_KERNELS_SCALAR_DECODE_ROW_H_
#define EMBER_KERNELS_SCALAR_DECODE_ROW_H_

#include <cstdint>

#include "kernels/dtype.h"

namespace ember::scalar {

// `type` is one of Q8_0, Q4_0, Q4_K, Q5_K, Q6_K and n a whole number of its blocks.
// vals has n entries, scale16 n / 16, min32 n / 32 (zeros for types without mins).
void DecodeQuantRow(DType type, const void* src, int64_t n, int8_t* vals, float* scale16,
                    float* min32);

// Dequantizes n values of any supported type (floats included) into dst.
void DequantizeRow(DType type, const void* src, int64_t n, float* dst);

}  // namespace ember::scalar

#endif  // EMBER_KERNELS_SCALAR_DECODE_ROW_H_
