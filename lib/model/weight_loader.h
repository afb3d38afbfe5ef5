// Finds every tensor a model needs, checks its shape and type against the config and
// fills ModelWeights with views (zero-copy where possible).
#ifndef EMBER_MODEL_WEIGHT_LOADER_H_
#define EMBER_MODEL_WEIGHT_LOADER_H_

#include "absl/status/status.h"
#include "lib/model/config.h"
#include "lib/model/model.h"
#include "lib/model/weights.h"

namespace ember {

// `weights` must already hold the source: weights->gguf or weights->hf_dir. Tensors are
// looked up by GGUF name (translated for HF directories); Llama/Mistral Q/K rows from an HF
// directory are permuted into the GGUF layout. Errors name the file and the tensor:
// InvalidModelError (missing tensor, wrong shape), UnsupportedError (storage type).
absl::Status LoadWeights(const ModelConfig& config, WeightFormat format, ModelWeights* weights);

}  // namespace ember

#endif  // EMBER_MODEL_WEIGHT_LOADER_H_
