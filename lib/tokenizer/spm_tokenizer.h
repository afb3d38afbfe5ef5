// SentencePiece-style BPE with byte fallback (Llama 2, Mistral, stories260K).
// From GGUF it follows llama.cpp (score-driven merges); from tokenizer.json it follows HF
// tokenizers (merge ranks, normalizer / Metaspace pre-tokenizer, decoder chain).
#ifndef EMBER_TOKENIZER_SPM_TOKENIZER_H_
#define EMBER_TOKENIZER_SPM_TOKENIZER_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/tokenizer/tokenizer.h"
#include "nlohmann/json_fwd.hpp"

namespace ember {

// tokenizer.ggml.model == "llama".
absl::StatusOr<std::unique_ptr<Tokenizer>> CreateSpmTokenizerFromGguf(const GgufFile& gguf);
// tokenizer.json with a BPE model with byte_fallback; `config` is tokenizer_config.json or {}.
absl::StatusOr<std::unique_ptr<Tokenizer>> CreateSpmTokenizerFromHfJson(
    const nlohmann::json& tokenizer, const nlohmann::json& config, std::string_view source);

}  // namespace ember

#endif  // EMBER_TOKENIZER_SPM_TOKENIZER_H_
