// Matrix products against weight matrices in any supported storage type. This is the
// interface model code calls; kernels/dispatch.cc routes it to the scalar, AVX2 or
// AVX-512 implementation chosen at run time.
#ifndef EMBER_KERNELS_MATMUL_H_
#define EMBER_KERNELS_MATMUL_H_

#include <cstdint>

#include "kernels/dtype.h"
#include "kernels/parallel.h"

namespace ember {

// How a weight matrix's bytes are arranged.
enum class WeightLayout {
  kRows,         // row after row, each row as the file stores it (GGUF blocks)
  kRowPanels16,  // Q8_0 / Q4_0 only: 16-row panels, kernels/row_panels.h
};

// A weight matrix of `rows` x `cols` values stored in `type`. row_bytes is RowBytes(type,
// cols), the stored size of one row. With WeightLayout::kRows rows are contiguous; GGUF's
// tensor dims {ne0, ne1} are {cols, rows}; HF's [out, in] is rows = out, cols = in.
struct WeightMatrix {
  DType type = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  int64_t row_bytes = 0;
  WeightLayout layout = WeightLayout::kRows;
};

// Row exactness: each token's output row of a MatMul is bit-identical to a one-token MatMul
// of that token alone (kernels/kernel_table.h says how kernels keep this). MatMulRowExact is
// row-exact for any token count, and so is MatMul on the scalar and AVX2 kernels, on float
// weights and on the row-panel layout AVX-512 loads use: a prompt's logits then do not
// depend on how its tokens were split into calls (the server's prompt cache evaluates only
// what follows a reused prefix). MatMul of more than kRowExactMaxTokens tokens may leave it
// where prefill has a faster kernel with its own arithmetic: AMX bf16 tiles, and
// row-layout Q8_0 / Q4_0 matrices on AVX-512.
//
// The most tokens one session brings to a batched forward pass (lib/model/forward.h), whose
// per-token results must not depend on the other sessions' tokens.
inline constexpr int64_t kRowExactMaxTokens = 8;

// y[t * w.rows + r] = sum_c w[r][c] * x[t * w.cols + c], for t in [0, n_tokens).
// n_tokens == 1 is a decode step (matrix-vector); larger n is prefill.
void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par);

// MatMul that is row-exact for any n_tokens (see kRowExactMaxTokens): the matmul of a
// batched forward pass, whose stacked rows come from several sessions. Weights are read
// once for all tokens.
void MatMulRowExact(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par);

// Writes row `row` of w, converted to float, into dst[0 .. w.cols).
void DequantizeRow(const WeightMatrix& w, int64_t row, float* dst);

}  // namespace ember

#endif  // EMBER_KERNELS_MATMUL_H_
