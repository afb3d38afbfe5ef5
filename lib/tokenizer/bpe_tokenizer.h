// GPT-2 byte-level BPE (Phi-2): GPT-2 pre-tokenization, byte<->unicode map, merge ranks,
// added tokens. Implemented in bpe_tokenizer.cc.
#ifndef EMBER_TOKENIZER_BPE_TOKENIZER_H_
#define EMBER_TOKENIZER_BPE_TOKENIZER_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/tokenizer/tokenizer.h"
#include "nlohmann/json_fwd.hpp"

namespace ember {

// tokenizer.ggml.model == "gpt2" (pre "gpt-2", "phi-2" or absent).
absl::StatusOr<std::unique_ptr<Tokenizer>> CreateGpt2TokenizerFromGguf(const GgufFile& gguf);
// tokenizer.json with a ByteLevel pre-tokenizer; `config` is tokenizer_config.json or {}.
absl::StatusOr<std::unique_ptr<Tokenizer>> CreateGpt2TokenizerFromHfJson(
    const nlohmann::json& tokenizer, const nlohmann::json& config, std::string_view source);

}  // namespace ember

#endif  // EMBER_TOKENIZER_BPE_TOKENIZER_H_
