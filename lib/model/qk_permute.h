// Hugging Face checkpoints of Llama/Mistral order each head's Q/K rows for "rotate_half"
// RoPE (dim i pairs with i + head_dim/2); GGUF files order them for interleaved RoPE (dim
// 2i pairs with 2i+1), which is what ember computes with. This converts the former into
// the latter, the row permutation llama.cpp's converter applies:
//   gguf[h][2i + j] = hf[h][j * head_dim/2 + i]   for i < head_dim/2, j in {0, 1}.
#ifndef EMBER_MODEL_QK_PERMUTE_H_
#define EMBER_MODEL_QK_PERMUTE_H_

#include <cstdint>

#include "kernels/matmul.h"

namespace ember {

// The HF row that becomes GGUF row `row` of a Q or K matrix with heads of head_dim rows.
int64_t HfRowForGgufRow(int64_t row, int64_t head_dim);

// Copies the rows of `hf` (n_heads * head_dim rows of any storage type) into `dst`
// (hf.rows * hf.row_bytes bytes) in GGUF order. head_dim must be even.
void PermuteHfRowsToGguf(const WeightMatrix& hf, int64_t head_dim, uint8_t* dst);

}  // namespace ember

#endif  // EMBER_MODEL_QK_PERMUTE_H_
