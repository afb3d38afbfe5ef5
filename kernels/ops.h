// Element-wise and per-row operations of the transformer forward pass, in plain float32.
// They are written as simple loops the compiler can vectorize; the heavy lifting (matrix
// products) lives in kernels/matmul.h.
#ifndef EMBER_KERNELS_OPS_H_
#define EMBER_KERNELS_OPS_H_

#include <cstdint>

namespace ember {

enum class Isa;  // kernels/dispatch.h (not included: the ISA translation units include this)

float Dot(const float* a, const float* b, int64_t n);
// y[i] += a * x[i]
void Axpy(float a, const float* x, float* y, int64_t n);
// y[i] += x[i]
void AddInPlace(float* y, const float* x, int64_t n);
// y[t * n + i] += bias[i] for t in [0, n_rows): a bias added to every row of a batch.
void AddBiasRows(float* y, const float* bias, int64_t n_rows, int64_t n);

// out = x / sqrt(mean(x^2) + eps) * weight (Llama's RMSNorm). out may alias x.
void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out);
// out = (x - mean) / sqrt(var + eps) * weight + bias (biased variance, as torch). out may
// alias x.
void LayerNorm(const float* x, const float* weight, const float* bias, int64_t n, float eps,
               float* out);

// In-place numerically stable softmax.
void Softmax(float* x, int64_t n);

// x[i] = silu(gate[i]) * up[i], written into gate (SwiGLU).
void SwiGlu(float* gate, const float* up, int64_t n);
// In-place GELU, tanh approximation exactly as "gelu_new" defines it:
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Runs the twin of ActiveIsa().
void GeluNew(float* x, int64_t n);
// The per-ISA twins behind GeluNew (tests and benchmarks call them directly; the SIMD ones
// only on a CPU that has the ISA). The SIMD twins evaluate x / (1 + exp(-2u)), the same
// function without the cancellation of 1 + tanh(u) near tanh = -1: within ~1.5 float eps
// (relative) of the exact value for the float argument, and within 2 eps |x| of the scalar
// twin, whose 1 + tanh(u) rounding is that coarse (tests/kernels/ops_simd_test.cc).
void GeluNewScalar(float* x, int64_t n);
void GeluNewAvx2(float* x, int64_t n);    // kernels/avx2/gelu_kernels.cc
void GeluNewAvx512(float* x, int64_t n);  // kernels/avx512/gelu_kernels.cc
void GeluNewNeon(float* x, int64_t n);    // kernels/neon/gelu_kernels.cc
using GeluNewFn = void (*)(float* x, int64_t n);
// The twin of `isa` (dotprod: the NEON one). Precondition: IsaRunnable(isa). Defined with the
// architecture's ISA check (kernels/arch_isa.h).
GeluNewFn GeluNewFor(Isa isa);

// Rotary position embedding tables for one position: for i in [0, n_rot/2),
// angle = pos * theta^(-2i/n_rot), cos_out[i] = cos(angle), sin_out[i] = sin(angle).
void RopeTable(int64_t pos, int n_rot, float theta, float* cos_out, float* sin_out);
// Rotates the first n_rot dims of each of n_heads vectors of head_dim floats.
// Interleaved pairing (GGUF llama layout): dims (2i, 2i+1).
void RopeInterleaved(float* x, int n_heads, int head_dim, int n_rot, const float* cos,
                     const float* sin);
// Rotate-half / NEOX pairing (HF, Phi-2): dims (i, i + n_rot/2). Dims >= n_rot pass through.
void RopeNeox(float* x, int n_heads, int head_dim, int n_rot, const float* cos,
              const float* sin);

}  // namespace ember

#endif  // EMBER_KERNELS_OPS_H_
