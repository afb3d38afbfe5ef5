// What a synthetic benchmark model contains: the architecture's exact shapes, the GGUF
// metadata llama.cpp's converter would write for it, and the storage type of every tensor
// under a llama.cpp-style file type ("Q4_K_M" and friends are per-tensor mixes). The bytes
// themselves are produced by lib/model/synth_writer.h.
#ifndef EMBER_MODEL_SYNTH_PLAN_H_
#define EMBER_MODEL_SYNTH_PLAN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/dtype.h"
#include "lib/model/config.h"

namespace ember {

// A named architecture shape. n_vocab = 0 means "as many rows as the vocabulary has
// tokens" (the tiny shapes, which take any tokenizer).
struct SynthShape {
  std::string name;  // "phi2", "llama2-7b", "mistral-7b", "tiny-phi2", ...
  ModelConfig config;
};

// The presets: phi2, llama2-7b, mistral-7b (full size) and tiny-phi2, tiny-llama,
// tiny-mistral (a few MB, for tests).
absl::StatusOr<SynthShape> SynthShapeByName(std::string_view name);
std::string SynthShapeNames();  // "phi2, llama2-7b, ..." for usage messages

// llama.cpp's file types (general.file_type ids are LLAMA_FTYPE values).
struct SynthFileType {
  std::string_view name;  // "Q4_K_M"
  uint32_t ftype_id;      // general.file_type
  DType base;             // type of most matrices
};
absl::StatusOr<SynthFileType> SynthFileTypeByName(std::string_view name);
std::string SynthFileTypeNames();

// How a tensor's random values are drawn: normal(mean, stddev), approximately.
struct SynthInit {
  float mean = 0.0f;
  float stddev = 1.0f;
};

struct SynthTensor {
  std::string name;            // GGUF name, e.g. "blk.3.attn_v.weight"
  DType type;
  std::vector<int64_t> ne;     // innermost first
  SynthInit init;
};

// Every tensor of `config` under `file_type`, in file order. Fails if a row length does not
// fit the chosen block type (K-quants need multiples of 256).
absl::StatusOr<std::vector<SynthTensor>> PlanSynthTensors(const ModelConfig& config,
                                                          const SynthFileType& file_type);

}  // namespace ember

#endif  // EMBER_MODEL_SYNTH_PLAN_H_
