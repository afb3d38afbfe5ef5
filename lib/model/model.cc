#include "lib/model/model.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/errors.h"
#include "lib/chat/template_source.h"
#include "lib/format/gguf.h"
#include "lib/format/hf_dir.h"
#include "lib/grammar/token_trie.h"
#include "lib/model/config_loader.h"
#include "lib/model/fingerprint.h"
#include "lib/model/end_of_generation.h"
#include "lib/model/weight_loader.h"
#include "lib/model/weights.h"

namespace ember {

Model::~Model() = default;

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const std::string& path,
                                                   const ModelLoadOptions& options) {
  std::unique_ptr<Model> model(new Model());
  model->log_ = options.log;
  model->weights_ = std::make_unique<ModelWeights>();
  ModelWeights& w = *model->weights_;
  if (HfModelDir::Looks(path)) {
    EMBER_ASSIGN_OR_RETURN(w.hf_dir, HfModelDir::Open(path));
    EMBER_ASSIGN_OR_RETURN(model->config_, ConfigFromHf(w.hf_dir->config(), path));
    EMBER_ASSIGN_OR_RETURN(model->tokenizer_, TokenizerFromHfDir(path));
    EMBER_ASSIGN_OR_RETURN(model->chat_template_, ChatTemplateFromHfDir(path));
  } else {
    EMBER_ASSIGN_OR_RETURN(w.gguf, GgufFile::Open(path));
    EMBER_ASSIGN_OR_RETURN(model->config_, ConfigFromGguf(*w.gguf));
    EMBER_ASSIGN_OR_RETURN(model->tokenizer_, TokenizerFromGguf(*w.gguf));
    EMBER_ASSIGN_OR_RETURN(model->chat_template_, ChatTemplateFromGguf(*w.gguf));
  }
  EMBER_RETURN_IF_ERROR(LoadWeights(model->config_, options.weight_format, &w));
  model->fingerprint_ = ComputeModelFingerprint(model->config_, w);
  EMBER_ASSIGN_OR_RETURN(model->end_of_generation_,
                         EndOfGenerationTokens(*model->tokenizer_, model->config_.n_vocab,
                                               w.gguf.get(), w.hf_dir.get()));

  const ModelConfig& c = model->config_;
  Log(&model->log_, LogLevel::kInfo,
      absl::StrFormat("%s: %s, %d layers, n_embd %d, %d/%d heads of %d, n_ff %d, vocab %d%s",
                      path, c.arch_name, c.n_layer, c.n_embd, c.n_head, c.n_head_kv,
                      c.head_dim, c.n_ff, c.n_vocab,
                      c.sliding_window > 0
                          ? absl::StrCat(", sliding window ", c.sliding_window)
                          : std::string()));
  return model;
}

bool Model::IsEndOfGeneration(int32_t id) const {
  return std::binary_search(end_of_generation_.begin(), end_of_generation_.end(), id);
}

absl::StatusOr<std::shared_ptr<const grammar::TokenTrie>> Model::GrammarTrie() const {
  // Held while building: a second session asking meanwhile waits rather than building a
  // second copy of a structure that costs tens of milliseconds and megabytes.
  std::lock_guard<std::mutex> lock(grammar_trie_mu_);
  if (grammar_trie_ == nullptr) {
    EMBER_ASSIGN_OR_RETURN(grammar_trie_, grammar::TokenTrie::Build(
                                              *tokenizer_, std::max(config_.n_vocab, tokenizer_->n_tokens())));
  }
  return grammar_trie_;
}

absl::Status Model::TokenText(int32_t id, bool skip_special, std::string* out) const {
  if (id >= tokenizer_->n_tokens() && id < config_.n_vocab) {
    out->clear();
    return absl::OkStatus();
  }
  return tokenizer_->TokenBytes(id, skip_special, out);
}

absl::StatusOr<chat::ModelChatInfo> Model::ChatInfo() const {
  chat::ModelChatInfo info;
  info.template_source = chat_template_;
  info.architecture = config_.arch_name;
  if (tokenizer_->bos() >= 0) EMBER_RETURN_IF_ERROR(TokenText(tokenizer_->bos(), false, &info.bos_token));
  if (tokenizer_->eos() >= 0) EMBER_RETURN_IF_ERROR(TokenText(tokenizer_->eos(), false, &info.eos_token));
  return info;
}

}  // namespace ember
