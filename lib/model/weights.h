// The tensors of a loaded model, in the layout the forward pass computes with.
//
// Matrices are WeightMatrix views, normally pointing straight into the mapped GGUF or
// safetensors file; those that had to be rewritten at load time (HF Q/K rows permuted into
// the GGUF layout, or converted to another WeightFormat) point into `owned_`. 1-D tensors
// (norm weights, biases) are always converted to owned float vectors.
#ifndef EMBER_MODEL_WEIGHTS_H_
#define EMBER_MODEL_WEIGHTS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/matmul.h"
#include "lib/base/anonymous_memory.h"
#include "lib/format/gguf.h"
#include "lib/format/hf_dir.h"

namespace ember {

struct NormWeights {
  std::vector<float> weight;
  std::vector<float> bias;  // LayerNorm only; empty for RMSNorm
};

struct LayerWeights {
  NormWeights attn_norm;  // Phi-2: the one LayerNorm feeding both attention and MLP
  NormWeights ffn_norm;   // Llama/Mistral only
  // Q/K rows are in GGUF's llama layout (interleaved RoPE pairs) for Llama/Mistral.
  WeightMatrix wq, wk, wv, wo;
  std::vector<float> bq, bk, bv, bo;  // Phi-2 only
  // Llama/Mistral: SwiGLU gate/up/down. Phi-2: up = fc1, down = fc2, no gate.
  WeightMatrix w_gate, w_up, w_down;
  std::vector<float> b_up, b_down;  // Phi-2 only
};

class ModelWeights {
 public:
  WeightMatrix token_embd;  // n_vocab rows of n_embd
  std::vector<LayerWeights> layers;
  NormWeights output_norm;
  WeightMatrix output;  // n_vocab rows; token_embd itself when the file ties them
  std::vector<float> output_bias;  // Phi-2 only

  // What the views point into: the mapped files and the buffers written at load time.
  std::unique_ptr<GgufFile> gguf;
  std::unique_ptr<HfModelDir> hf_dir;
  std::vector<std::unique_ptr<uint8_t[]>> owned;
  std::vector<std::unique_ptr<AnonymousMemory>> packed;  // row-panel copies (kernels/row_panels.h)
};

}  // namespace ember

#endif  // EMBER_MODEL_WEIGHTS_H_
