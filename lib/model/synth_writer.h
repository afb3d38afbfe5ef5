// Writes a synthetic model: the exact tensor shapes of a real architecture (SynthPlan), a
// real vocabulary copied from a tokenizer GGUF, and deterministic random weights quantized
// row by row while the file is streamed out, so a 7B file never sits in memory.
#ifndef EMBER_MODEL_SYNTH_WRITER_H_
#define EMBER_MODEL_SYNTH_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "kernels/parallel.h"
#include "lib/model/config.h"
#include "lib/model/synth_plan.h"

namespace ember {

struct SynthOptions {
  ModelConfig config;          // config.n_vocab 0: one row per vocabulary token
  SynthFileType file_type;
  std::string vocab_path;      // a GGUF holding tokenizer.ggml.* (other keys are ignored)
  std::string name;            // general.name
  uint64_t seed = 0;           // same seed, same shape and type: byte-identical file
};

struct SynthResult {
  ModelConfig config;          // with n_vocab resolved
  uint64_t file_bytes = 0;
  size_t n_tensors = 0;
};

// Writes `path` (atomically: through a temporary file). Rows are generated and quantized on
// `par`'s threads; the result does not depend on the thread count. Errors: IoError,
// InvalidModelError (vocabulary file), InvalidArgumentError (shape/type/vocab mismatch).
absl::StatusOr<SynthResult> WriteSynthModel(const SynthOptions& options, const std::string& path,
                                            Parallel& par);

// The value every tensor element is drawn from: approximately normal (a centred, scaled sum
// of four uniform 16-bit numbers, so bounded at +-3.46 sigma), keyed by (seed, tensor index,
// row) so rows can be produced in any order. Exposed for tests.
void SynthRandomRow(uint64_t seed, uint64_t tensor_index, uint64_t row, const SynthInit& init,
                    float* out, int64_t n);

}  // namespace ember

#endif  // EMBER_MODEL_SYNTH_WRITER_H_
