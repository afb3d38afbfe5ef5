// Architecture hyper-parameters, whatever file they came from.
#ifndef EMBER_MODEL_CONFIG_H_
#define EMBER_MODEL_CONFIG_H_

#include <cstdint>
#include <string>

namespace ember {

enum class Architecture { kLlama, kMistral, kPhi2 };

// Where the output projection (logits = output * hidden) comes from.
enum class OutputWeights {
  kOwnOrTied,  // GGUF's convention: output.weight if the file has it, else the embedding
  kOwn,        // the model's own tensor, which must be present (HF tie_word_embeddings false)
  kTied,       // the embedding matrix (HF tie_word_embeddings true)
};

struct ModelConfig {
  Architecture arch = Architecture::kLlama;
  std::string arch_name;     // "llama", "mistral", "phi2"
  int32_t n_vocab = 0;       // rows of the embedding / output matrices
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int32_t n_ff = 0;
  int32_t n_rot = 0;         // rotary dims per head (Phi-2: partial)
  float rope_theta = 10000.0f;
  float norm_eps = 1e-5f;
  int32_t n_ctx_train = 0;
  int32_t sliding_window = 0;  // 0 = full attention
  OutputWeights output_weights = OutputWeights::kOwnOrTied;
};

}  // namespace ember

#endif  // EMBER_MODEL_CONFIG_H_
