// The Hugging Face name of a tensor, given its GGUF (llama.cpp) name. The loader speaks GGUF
// names throughout and translates only when it reads an HF directory.
#ifndef EMBER_MODEL_HF_NAMES_H_
#define EMBER_MODEL_HF_NAMES_H_

#include <string>
#include <string_view>

#include "lib/model/config.h"

namespace ember {

// E.g. "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight";
// Phi-2: "blk.0.attn_output.bias" -> "model.layers.0.self_attn.dense.bias". Returns the
// input unchanged for a name with no HF counterpart.
std::string HfTensorName(Architecture arch, std::string_view gguf_name);

}  // namespace ember

#endif  // EMBER_MODEL_HF_NAMES_H_
