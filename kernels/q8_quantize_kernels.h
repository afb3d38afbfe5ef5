// The per-ISA twins behind Q8ActivationBuffer::Quantize: one token's row of 32-value blocks
// into the view's arrays (see q8_activations.h for what each holds). Every twin gives
// bit-identical results (same amax, the same float products x * (127 / amax) rounded half
// to even, the same fp16 rounding of amax / 127); tests/kernels/ops_simd_test.cc checks it.
// Plain declarations only: the AVX2 / AVX-512 translation units include this header.
#ifndef EMBER_KERNELS_Q8_QUANTIZE_KERNELS_H_
#define EMBER_KERNELS_Q8_QUANTIZE_KERNELS_H_

#include <cstdint>

namespace ember {

enum class Isa;  // kernels/dispatch.h

// Where a row's blocks go: each pointer is the view's array at that token.
struct Q8RowOut {
  int8_t* q;       // [32 * n_blocks]
  float* d;        // [n_blocks]
  float* dsum;     // [n_blocks]
  int32_t* sum16;  // [2 * n_blocks]
  float* d8;       // [8 * n_blocks]
  int32_t* bias8;  // [8 * n_blocks]
  int32_t* bias1;  // [n_blocks]
};

using QuantizeQ8RowFn = void (*)(const float* x, int64_t n_blocks, int weight_offset,
                                 const Q8RowOut& out);
void QuantizeQ8RowScalar(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out);
void QuantizeQ8RowAvx2(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out);
void QuantizeQ8RowAvx512(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out);
void QuantizeQ8RowNeon(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out);
// The twin of `isa` (dotprod: the NEON one). Precondition: IsaRunnable(isa). Defined with the
// architecture's ISA check (kernels/arch_isa.h).
QuantizeQ8RowFn QuantizeQ8RowFor(Isa isa);

}  // namespace ember

#endif  // EMBER_KERNELS_Q8_QUANTIZE_KERNELS_H_
