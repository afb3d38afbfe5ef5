// ModelConfig from what a model file says: GGUF metadata or an HF config.json.
#ifndef EMBER_MODEL_CONFIG_LOADER_H_
#define EMBER_MODEL_CONFIG_LOADER_H_

#include "absl/status/statusor.h"
#include "lib/format/gguf.h"
#include "lib/format/hf_config.h"
#include "lib/model/config.h"

namespace ember {

// general.architecture "llama" (reported as "mistral" when the file carries
// llama.attention.sliding_window) or "phi2". n_vocab is the row count of token_embd.
// UnsupportedError for other architectures; InvalidModelError (naming the key) for missing
// or inconsistent hyper-parameters.
absl::StatusOr<ModelConfig> ConfigFromGguf(const GgufFile& gguf);

// model_type "llama", "mistral" or "phi". `source` names the directory in messages.
absl::StatusOr<ModelConfig> ConfigFromHf(const HfConfig& hf, std::string_view source);

// Checks the relations every forward pass relies on (positive sizes, heads divisible by kv
// heads, rotary dims even and within the head). `source` names the file in messages.
absl::Status ValidateConfig(const ModelConfig& config, std::string_view source);

}  // namespace ember

#endif  // EMBER_MODEL_CONFIG_LOADER_H_
