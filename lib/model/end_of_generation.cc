#include "lib/model/end_of_generation.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "lib/base/errors.h"
#include "lib/format/gguf.h"
#include "lib/format/hf_dir.h"

namespace ember {
namespace {

// End-of-turn markers of common chat templates. They count only as control tokens: the
// same text as ordinary vocabulary (a model that never saw it as a marker) is just text.
constexpr std::string_view kEndOfTurnMarkers[] = {
    "<|im_end|>",     // ChatML (Qwen, many fine-tunes)
    "<|endoftext|>",  // GPT-2 family, Phi, Qwen
    "<|eot_id|>",     // Llama 3
    "<|eom_id|>",     // Llama 3.1 tool calls
    "<end_of_turn>",  // Gemma
    "<|end|>",        // Phi-3
};

}  // namespace

absl::StatusOr<std::vector<int32_t>> EndOfGenerationTokens(const Tokenizer& tokenizer,
                                                           int32_t n_vocab, const GgufFile* gguf,
                                                           const HfModelDir* hf) {
  std::vector<int32_t> ids;
  auto add = [&](int64_t id) {
    if (id >= 0 && id < n_vocab) ids.push_back(static_cast<int32_t>(id));
  };
  add(tokenizer.eos());
  std::string text;
  for (int32_t id = 0; id < tokenizer.n_tokens(); ++id) {
    if (!tokenizer.IsControl(id)) continue;
    EMBER_RETURN_IF_ERROR(tokenizer.TokenBytes(id, /*skip_special=*/false, &text));
    if (std::find(std::begin(kEndOfTurnMarkers), std::end(kEndOfTurnMarkers), text) !=
        std::end(kEndOfTurnMarkers)) {
      add(id);
    }
  }
  if (gguf != nullptr) {
    for (const char* key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
      const GgufValue* v = gguf->Find(key);
      if (v == nullptr) continue;
      // A negative id (llama.cpp writes -1) means none.
      if ((v->type == GgufType::kInt8 || v->type == GgufType::kInt16 ||
           v->type == GgufType::kInt32 || v->type == GgufType::kInt64) &&
          v->i < 0) {
        continue;
      }
      EMBER_ASSIGN_OR_RETURN(std::optional<uint64_t> id, gguf->GetUint(key));
      if (id.has_value() && *id < static_cast<uint64_t>(n_vocab)) add(static_cast<int64_t>(*id));
    }
  }
  if (hf != nullptr) {
    for (int64_t id : hf->config().eos_token_ids) add(id);
    for (int64_t id : hf->generation_config().eos_token_ids) add(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace ember
