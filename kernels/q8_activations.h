// Activations quantized for the int8 ("llama.cpp-style") matmul path: each 32-value block of
// a token's row becomes d = amax/127 (rounded to fp16) and q = round-half-even(x * 127/amax),
// so that a weight block dotted with it is an exact integer sum scaled by d_w * d_x.
//
// Besides q and d the buffer carries precomputed per-block terms the SIMD kernels load
// instead of recomputing per weight row: d broadcast to 8 lanes, the weight-offset
// correction as an int32 lane vector, and d * sum(q) for the K-quant min terms.
#ifndef EMBER_KERNELS_Q8_ACTIVATIONS_H_
#define EMBER_KERNELS_Q8_ACTIVATIONS_H_

#include <cstdint>

namespace ember {

// Read-only view handed to the kernels (plain pointers: the ISA translation units must not
// instantiate library templates). All arrays are token-major.
struct Q8ActivationsView {
  int64_t n_tokens = 0;
  int64_t cols = 0;       // a multiple of 32
  int64_t n_blocks = 0;   // cols / 32
  int weight_offset = 0;  // o in bias8 below (the kernel's unsigned-weight offset)
  const int8_t* q = nullptr;        // [n_tokens][cols]
  const float* d = nullptr;         // [n_tokens][n_blocks]   fp16-rounded scale, as float
  const int32_t* sum16 = nullptr;   // [n_tokens][2 * n_blocks] sum of q per 16 values
  const float* dsum = nullptr;      // [n_tokens][n_blocks]   d * (sum of q over the block)
  const float* d8 = nullptr;        // [n_tokens][8 * n_blocks] d repeated 8 times
  // [n_tokens][8 * n_blocks]: lanes 0 and 4 of each block hold -o * sum16 of its halves,
  // the other lanes 0. A dot product of unsigned weights u = w + o that starts from this
  // vector (8 int32 lanes per 32 values, 4 values per lane) ends at sum(w * q) exactly.
  const int32_t* bias8 = nullptr;
  const int32_t* bias1 = nullptr;   // [n_tokens][n_blocks] -o * (sum of q over the block)
};

// Tokens [t0, t0 + n) of x as a view of their own (`static inline`: ISA translation units
// include this header and must not share an external-linkage inline function).
static inline Q8ActivationsView TokenRange(const Q8ActivationsView& x, int64_t t0, int64_t n) {
  Q8ActivationsView v = x;
  v.n_tokens = n;
  v.q += t0 * x.cols;
  v.d += t0 * x.n_blocks;
  v.sum16 += 2 * t0 * x.n_blocks;
  v.dsum += t0 * x.n_blocks;
  v.d8 += 8 * t0 * x.n_blocks;
  v.bias8 += 8 * t0 * x.n_blocks;
  v.bias1 += t0 * x.n_blocks;
  return v;
}

}  // namespace ember

#endif  // EMBER_KERNELS_Q8_ACTIVATIONS_H_
