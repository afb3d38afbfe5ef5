// A loaded model: hyper-parameters, weights (zero-copy views into the mapped files where
// the storage type allows) and the tokenizer. Immutable after Load(), so any number of
// sessions and threads may share it.
#ifndef EMBER_MODEL_MODEL_H_
#define EMBER_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/base/log.h"
#include "lib/chat/chat_apply.h"
#include "lib/model/config.h"
#include "lib/tokenizer/tokenizer.h"

namespace ember {

// How float weights are held after loading (ember_model_options_set_weight_format).
enum class WeightFormat { kAsStored = 0, kQ8_0 = 1, kQ4_0 = 2 };

struct ModelLoadOptions {
  WeightFormat weight_format = WeightFormat::kAsStored;
  LogSink log;  // default: the global sink
};

class ModelWeights;  // lib/model/weights.h
namespace grammar {
class TokenTrie;  // lib/grammar/token_trie.h
}

class Model {
 public:
  // `path` is a GGUF file or a Hugging Face directory (HfModelDir::Looks).
  static absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& path,
                                                     const ModelLoadOptions& options);
  ~Model();

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ModelWeights& weights() const { return *weights_; }
  const LogSink& log() const { return log_; }
  // Identity of what this model computes (lib/model/fingerprint.h), computed at load.
  uint64_t fingerprint() const { return fingerprint_; }

  // The bytes token `id` adds to generated text (Tokenizer::TokenBytes), except that output
  // rows the tokenizer has no token for (ids in [n_tokens, n_vocab), e.g. Phi-2's padding
  // rows) render as "": a sampler never picks them, but a host may feed them.
  absl::Status TokenText(int32_t id, bool skip_special, std::string* out) const;

  // Whether sampling `id` ends a generation (lib/model/end_of_generation.h says which ids).
  bool IsEndOfGeneration(int32_t id) const;
  // Those ids, sorted.
  const std::vector<int32_t>& end_of_generation() const { return end_of_generation_; }
  // The model's side of a chat render: its template, architecture and BOS/EOS texts.
  absl::StatusOr<chat::ModelChatInfo> ChatInfo() const;
  // The chat template the model ships (lib/chat/template_source.h), "" if none.
  const std::string& chat_template() const { return chat_template_; }

  // The vocabulary as the byte trie grammar constraints mask against (mask width n_vocab),
  // built on first use (sessions without a grammar never pay for it) and then shared by
  // every session. Thread-safe: concurrent first calls build it once. A failed build
  // (OutOfMemoryError) is not remembered, so a later call tries again.
  absl::StatusOr<std::shared_ptr<const grammar::TokenTrie>> GrammarTrie() const;

 private:
  Model() = default;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ModelWeights> weights_;
  LogSink log_;
  uint64_t fingerprint_ = 0;
  std::vector<int32_t> end_of_generation_;
  std::string chat_template_;
  // Logically part of the immutable model (a pure function of the tokenizer), hence mutable.
  mutable std::mutex grammar_trie_mu_;
  mutable std::shared_ptr<const grammar::TokenTrie> grammar_trie_;
};

}  // namespace ember

#endif  // EMBER_MODEL_MODEL_H_
