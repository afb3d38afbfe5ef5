// The set of tokens that end a generation. One EOS id is not enough: chat models end a
// turn with their own marker (<|im_end|>, <|eot_id|>, <end_of_turn>, ...), and Hugging Face
// configs list several ids in eos_token_id.
#ifndef EMBER_MODEL_END_OF_GENERATION_H_
#define EMBER_MODEL_END_OF_GENERATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/tokenizer/tokenizer.h"

namespace ember {

class GgufFile;
class HfModelDir;

// Sorted, distinct ids in [0, n_vocab) from: the tokenizer's EOS; its control tokens
// spelled as a known end-of-turn marker; for a GGUF file (`gguf` non-null)
// tokenizer.ggml.eot_token_id and tokenizer.ggml.eom_token_id; for a Hugging Face
// directory (`hf` non-null) eos_token_id of config.json and generation_config.json.
// Ids outside the vocabulary are left out (they could never be sampled).
absl::StatusOr<std::vector<int32_t>> EndOfGenerationTokens(const Tokenizer& tokenizer,
                                                           int32_t n_vocab, const GgufFile* gguf,
                                                           const HfModelDir* hf);

}  // namespace ember

#endif  // EMBER_MODEL_END_OF_GENERATION_H_
