// config.json of a Hugging Face model directory, parsed into typed fields.
#ifndef EMBER_FORMAT_HF_CONFIG_H_
#define EMBER_FORMAT_HF_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ember {

struct HfConfig {
  std::string model_type;      // "phi", "llama", "mistral"
  std::string architecture;    // architectures[0], e.g. "PhiForCausalLM"
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;   // defaults to num_attention_heads
  int64_t head_dim = 0;              // defaults to hidden_size / num_attention_heads
  int64_t intermediate_size = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double norm_eps = 1e-5;            // rms_norm_eps (llama/mistral) or layer_norm_eps (phi)
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;  // phi (absent: 0.5, transformers' PhiConfig default)
  int64_t rotary_dim = 0;            // dims per head that RoPE rotates: int(head_dim * factor)
  int64_t sliding_window = 0;        // 0 = full attention (null; always 0 for llama/phi)
  bool tie_word_embeddings = false;
  std::string hidden_act;            // "silu", "gelu_new", ...
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;   // the first of eos_token_ids
  std::vector<int64_t> eos_token_ids;    // every id of eos_token_id (an id or a list)
  std::string torch_dtype;            // "float32", "bfloat16", ... ("" if absent)
  bool attention_bias = false;       // q/k/v/o projections have biases (always for phi)
  bool mlp_bias = false;             // MLP projections have biases (always for phi)
};

// Parses config.json text. `source` names the file in messages. InvalidModelError for
// invalid JSON or missing/mistyped/out-of-range fields; UnsupportedError naming the
// model_type if it is not one ember runs (phi, llama, mistral), or for rope_scaling.
// Absent optional fields take the defaults transformers' config classes give them (e.g.
// rms_norm_eps 1e-6 for llama/mistral, sliding_window 4096 for mistral; null means none).
absl::StatusOr<HfConfig> ParseHfConfig(std::string_view json_text, std::string_view source);

// generation_config.json: the generation defaults that transformers' generate() reads.
// ember takes only the end-of-generation ids from it.
struct HfGenerationConfig {
  std::vector<int64_t> eos_token_ids;  // eos_token_id: an id or a list of ids
};

// Parses generation_config.json text; ids must be in [0, vocab_size). InvalidModelError
// naming `source` for invalid JSON or a mistyped/out-of-range eos_token_id.
absl::StatusOr<HfGenerationConfig> ParseHfGenerationConfig(std::string_view json_text,
                                                           std::string_view source,
                                                           int64_t vocab_size);

}  // namespace ember

#endif  // EMBER_FORMAT_HF_CONFIG_H_
