#include "lib/model/config_loader.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace ember {
namespace {

// Hyper-parameters beyond these are not models but corrupt files; the bounds keep every
// product of them (buffer sizes) far from overflow.
constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxContext = int64_t{1} << 24;

// Reads an integer key into an int32, with a default when absent.
absl::StatusOr<int32_t> GetInt(const GgufFile& gguf, const std::string& key,
                               std::optional<int64_t> default_value, int64_t max_value) {
  EMBER_ASSIGN_OR_RETURN(std::optional<uint64_t> v, gguf.GetUint(key));
  if (!v.has_value()) {
    if (!default_value.has_value()) {
      return InvalidModelError(absl::StrCat(gguf.path(), ": metadata '", key, "' is missing"));
    }
    return static_cast<int32_t>(*default_value);
  }
  if (*v > static_cast<uint64_t>(max_value)) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": metadata '", key, "' = ", *v,
                                          " is out of range (max ", max_value, ")"));
  }
  return static_cast<int32_t>(*v);
}

absl::StatusOr<float> GetReal(const GgufFile& gguf, const std::string& key,
                              double default_value) {
  EMBER_ASSIGN_OR_RETURN(std::optional<double> v, gguf.GetFloat(key));
  return static_cast<float>(v.value_or(default_value));
}

}  // namespace

absl::Status ValidateConfig(const ModelConfig& c, std::string_view source) {
  auto bad = [&](absl::string_view what) {
    return InvalidModelError(absl::StrCat(AV(source), ": ", what));
  };
  if (c.n_vocab <= 0 || c.n_embd <= 0 || c.n_layer <= 0 || c.n_head <= 0 ||
      c.n_head_kv <= 0 || c.head_dim <= 0 || c.n_ff <= 0) {
    return bad(absl::StrCat("hyper-parameters must be positive (n_vocab ", c.n_vocab,
                            ", n_embd ", c.n_embd, ", n_layer ", c.n_layer, ", n_head ",
                            c.n_head, ", n_head_kv ", c.n_head_kv, ", head_dim ", c.head_dim,
                            ", n_ff ", c.n_ff, ")"));
  }
  if (c.n_head % c.n_head_kv != 0) {
    return bad(absl::StrCat("head count ", c.n_head, " is not a multiple of kv head count ",
                            c.n_head_kv));
  }
  if (c.n_rot < 0 || c.n_rot > c.head_dim || c.n_rot % 2 != 0) {
    return bad(absl::StrCat("rotary dims ", c.n_rot, " must be even and at most head_dim ",
                            c.head_dim));
  }
  if (!(c.rope_theta > 0.0f) || !(c.norm_eps >= 0.0f)) {
    return bad(absl::StrCat("rope theta ", c.rope_theta, " or norm epsilon ", c.norm_eps,
                            " is invalid"));
  }
  if (c.sliding_window < 0) return bad(absl::StrCat("sliding window ", c.sliding_window));
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> ConfigFromGguf(const GgufFile& gguf) {
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string_view> arch,
                         gguf.GetString("general.architecture"));
  if (!arch.has_value()) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": metadata 'general.architecture' is missing"));
  }
  ModelConfig c;
  if (*arch == "llama") {
    c.arch = Architecture::kLlama;
  } else if (*arch == "phi2") {
    c.arch = Architecture::kPhi2;
  } else {
    return UnsupportedError(absl::StrCat(gguf.path(), ": architecture '", AV(*arch),
                                         "' is not supported (llama, phi2)"));
  }
  const std::string p = absl::StrCat(AV(*arch), ".");
  EMBER_ASSIGN_OR_RETURN(c.n_layer, GetInt(gguf, p + "block_count", std::nullopt, kMaxLayers));
  EMBER_ASSIGN_OR_RETURN(c.n_embd, GetInt(gguf, p + "embedding_length", std::nullopt, kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_ff, GetInt(gguf, p + "feed_forward_length", std::nullopt, kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_head, GetInt(gguf, p + "attention.head_count", std::nullopt, kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_head_kv, GetInt(gguf, p + "attention.head_count_kv", c.n_head, kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_ctx_train, GetInt(gguf, p + "context_length", 0, kMaxContext));
  if (c.n_head <= 0) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": metadata '", p, "attention.head_count' is 0"));
  }
  EMBER_ASSIGN_OR_RETURN(c.head_dim,
                         GetInt(gguf, p + "attention.key_length", c.n_embd / c.n_head, kMaxDim));
  EMBER_ASSIGN_OR_RETURN(int32_t value_length,
                         GetInt(gguf, p + "attention.value_length", c.head_dim, kMaxDim));
  if (value_length != c.head_dim) {
    return UnsupportedError(absl::StrCat(gguf.path(), ": attention.value_length ", value_length,
                                         " differs from key_length ", c.head_dim));
  }
  EMBER_ASSIGN_OR_RETURN(c.n_rot, GetInt(gguf, p + "rope.dimension_count", c.head_dim, kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.rope_theta, GetReal(gguf, p + "rope.freq_base", 10000.0));
  if (c.arch == Architecture::kPhi2) {
    c.arch_name = "phi2";
    EMBER_ASSIGN_OR_RETURN(c.norm_eps, GetReal(gguf, p + "attention.layer_norm_epsilon", 1e-5));
  } else {
    EMBER_ASSIGN_OR_RETURN(c.norm_eps,
                           GetReal(gguf, p + "attention.layer_norm_rms_epsilon", 1e-5));
    EMBER_ASSIGN_OR_RETURN(c.sliding_window,
                           GetInt(gguf, p + "attention.sliding_window", 0, kMaxContext));
    // Real Mistral GGUFs do not say they are Mistral; with the window key we can tell.
    c.arch = c.sliding_window > 0 ? Architecture::kMistral : Architecture::kLlama;
    c.arch_name = c.sliding_window > 0 ? "mistral" : "llama";
  }
  const TensorView* embd = gguf.FindTensor("token_embd.weight");
  if (embd == nullptr) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": tensor 'token_embd.weight' is missing"));
  }
  if (embd->ne[1] <= 0 || embd->ne[1] > kMaxContext * 64) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": tensor 'token_embd.weight' has ",
                                          embd->ne[1], " rows"));
  }
  c.n_vocab = static_cast<int32_t>(embd->ne[1]);
  EMBER_RETURN_IF_ERROR(ValidateConfig(c, gguf.path()));
  return c;
}

absl::StatusOr<ModelConfig> ConfigFromHf(const HfConfig& hf, std::string_view source) {
  ModelConfig c;
  std::string_view expected_act;
  if (hf.model_type == "phi") {
    c.arch = Architecture::kPhi2;
    c.arch_name = "phi2";
    expected_act = "gelu_new";
  } else if (hf.model_type == "llama") {
    c.arch = Architecture::kLlama;
    c.arch_name = "llama";
    expected_act = "silu";
  } else if (hf.model_type == "mistral") {
    c.arch = Architecture::kMistral;
    c.arch_name = "mistral";
    expected_act = "silu";
  } else {
    return UnsupportedError(absl::StrCat(AV(source), ": model_type '", hf.model_type,
                                         "' is not supported (llama, mistral, phi)"));
  }
  if (!hf.hidden_act.empty() && hf.hidden_act != expected_act) {
    return UnsupportedError(absl::StrCat(AV(source), ": hidden_act '", hf.hidden_act,
                                         "' is not supported for ", hf.model_type));
  }
  if (c.arch != Architecture::kPhi2 && (hf.attention_bias || hf.mlp_bias)) {
    return UnsupportedError(absl::StrCat(AV(source), ": attention_bias / mlp_bias are not supported for ",
                                         hf.model_type));
  }
  auto check = [&](int64_t v, absl::string_view name, int64_t max) -> absl::StatusOr<int32_t> {
    if (v < 0 || v > max) {
      return InvalidModelError(absl::StrCat(AV(source), ": ", name, " = ", v, " is out of range"));
    }
    return static_cast<int32_t>(v);
  };
  // transformers ties the output to the embedding exactly when the config says so; a
  // missing lm_head of an untied model is a broken checkpoint, not an invitation to tie.
  c.output_weights = hf.tie_word_embeddings ? OutputWeights::kTied : OutputWeights::kOwn;
  EMBER_ASSIGN_OR_RETURN(c.n_vocab, check(hf.vocab_size, "vocab_size", kMaxContext * 64));
  EMBER_ASSIGN_OR_RETURN(c.n_embd, check(hf.hidden_size, "hidden_size", kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_layer, check(hf.num_hidden_layers, "num_hidden_layers", kMaxLayers));
  EMBER_ASSIGN_OR_RETURN(c.n_head, check(hf.num_attention_heads, "num_attention_heads", kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_head_kv, check(hf.num_key_value_heads, "num_key_value_heads", kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.head_dim, check(hf.head_dim, "head_dim", kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_ff, check(hf.intermediate_size, "intermediate_size", kMaxDim));
  EMBER_ASSIGN_OR_RETURN(c.n_ctx_train,
                         check(hf.max_position_embeddings, "max_position_embeddings", kMaxContext));
  c.rope_theta = static_cast<float>(hf.rope_theta);
  c.norm_eps = static_cast<float>(hf.norm_eps);
  if (c.arch == Architecture::kPhi2) {
    // transformers and llama.cpp's converter both truncate: int(head_dim * factor).
    EMBER_ASSIGN_OR_RETURN(c.n_rot, check(hf.rotary_dim, "rotary dims", c.head_dim));
  } else {
    c.n_rot = c.head_dim;
  }
  if (c.arch == Architecture::kMistral) {
    EMBER_ASSIGN_OR_RETURN(c.sliding_window, check(hf.sliding_window, "sliding_window", kMaxContext));
  }
  EMBER_RETURN_IF_ERROR(ValidateConfig(c, source));
  return c;
}

}  // namespace ember
