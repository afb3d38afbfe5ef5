// Prefill on AMX: quantized weights dequantized to bf16, activations rounded to bf16, and
// AMX-BF16 tiles multiplying them with float32 accumulation.
//
// Why not AMX-INT8: Q8_0/Q4_0 weights and the Q8 activations both carry a scale per 32
// values, so an int8 tile product must leave the tile unit after every 32-value block for a
// convert-and-scale epilogue; measured here, that epilogue (not the tiles) capped int8
// tiles at the VNNI kernels' ~350 GOP/s. In bf16 the scales are applied while dequantizing,
// and a 32 x 32 output tile accumulates over the whole row inside the tile unit.
//
// Numerics: each product is bf16(d * q) * bf16(x), summed in float32 — closer to the
// exact dequantized product than the int8 scheme (whose activation error is up to
// amax / 254 per value), but not bit-equal to it. kernels/dispatch.h says when it is used.
//
// Called only when AmxUsable(). Like the other ISA files, the .cc must not use library
// templates or external-linkage inline functions.
#ifndef EMBER_KERNELS_AMX_AMX_BF16_GEMM_H_
#define EMBER_KERNELS_AMX_AMX_BF16_GEMM_H_

#include <cstdint>

#include "kernels/matmul.h"

namespace ember {
namespace amx {

// Tokens are processed in tiles of 32 (two 16-token B tiles).
inline constexpr int64_t kBf16TileTokens = 32;

// Q8_0, Q4_0, Q4_K, Q5_K and Q6_K weights, in the file's row layout or in row panels.
bool Bf16GemmSupports(const WeightMatrix& w);

// Bytes PackActivationsBf16 writes for n_tokens x cols (cols a multiple of 32): tokens
// padded with zeros to a multiple of kBf16TileTokens.
int64_t Bf16ActivationBytes(int64_t n_tokens, int64_t cols);

// x[n_tokens][cols] rounded to bf16 (to nearest even) into AMX B-tile order: for each group
// of 16 tokens, [cols / 2 value pairs][16 tokens][2]. dst must be 64-byte aligned.
void PackActivationsBf16(const float* x, int64_t n_tokens, int64_t cols, uint16_t* dst);

// y[t * y_stride + r] for rows [row_begin, row_end) (row_begin a multiple of 16) and all
// n_tokens tokens, from activations packed by PackActivationsBf16.
void Bf16Gemm(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const uint16_t* x_packed,
              int64_t n_tokens, float* y, int64_t y_stride);

}  // namespace amx
}  // namespace ember

#endif  // EMBER_KERNELS_AMX_AMX_BF16_GEMM_H_
