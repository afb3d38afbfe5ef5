#include "lib/format/hf_config.h"

#include <cmath>
#include <limits>

#include "lib/base/errors.h"
#include "lib/format/json_text.h"

namespace ember {
namespace {

using nlohmann::json;

// Upper bounds well above any real model (Llama 3 405B: hidden 16384, 126 layers, 128
// heads), low enough that products of them cannot overflow int64 later.
constexpr int64_t kMaxHidden = int64_t{1} << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 1024;
constexpr int64_t kMaxIntermediate = int64_t{1} << 20;
constexpr int64_t kMaxVocab = int64_t{1} << 22;
constexpr int64_t kMaxPositions = int64_t{1} << 24;
constexpr int64_t kMaxSlidingWindow = int64_t{1} << 31;
constexpr double kMaxRopeTheta = 1e12;

// Typed access to the fields of one config object. Absent and null fields read as nullopt;
// a field of the wrong type is an InvalidModelError naming it.
class ConfigFields {
 public:
  ConfigFields(const json& object, std::string_view source) : object_(object), source_(source) {}

  absl::Status Error(std::string_view key, std::string_view what) const {
    return InvalidModelError(absl::StrCat(AV(source_), ": field '", AV(key), "': ", AV(what)));
  }

  const json* Find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  absl::StatusOr<std::optional<int64_t>> Int(const char* key) const {
    const json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    return IntValue(key, *v);
  }

  absl::StatusOr<int64_t> IntValue(std::string_view key, const json& v) const {
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(key, absl::StrCat("value ", u, " is too large"));
      }
      return static_cast<int64_t>(u);
    }
    if (v.is_number_integer()) return v.get<int64_t>();
    return Error(key, absl::StrCat("expected an integer, got ",
                                   v.is_number() ? v.dump() : JsonTypeName(v)));
  }

  absl::StatusOr<std::optional<double>> Number(const char* key) const {
    const json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) return Error(key, absl::StrCat("expected a number, got ", JsonTypeName(*v)));
    double d = v->get<double>();
    if (!std::isfinite(d)) return Error(key, "not a finite number");
    return d;
  }

  absl::StatusOr<std::optional<bool>> Bool(const char* key) const {
    const json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) return Error(key, absl::StrCat("expected true/false, got ", JsonTypeName(*v)));
    return v->get<bool>();
  }

  absl::StatusOr<std::optional<std::string>> String(const char* key) const {
    const json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) return Error(key, absl::StrCat("expected a string, got ", JsonTypeName(*v)));
    return v->get<std::string>();
  }

  // A required integer in [lo, hi].
  absl::StatusOr<int64_t> RequiredInt(const char* key, int64_t lo, int64_t hi) const {
    EMBER_ASSIGN_OR_RETURN(std::optional<int64_t> v, Int(key));
    if (!v.has_value()) return Error(key, "missing");
    EMBER_RETURN_IF_ERROR(CheckRange(key, *v, lo, hi));
    return *v;
  }

  // An optional integer in [lo, hi], `fallback` when absent or null.
  absl::StatusOr<int64_t> OptionalInt(const char* key, int64_t fallback, int64_t lo, int64_t hi) const {
    EMBER_ASSIGN_OR_RETURN(std::optional<int64_t> v, Int(key));
    if (!v.has_value()) return fallback;
    EMBER_RETURN_IF_ERROR(CheckRange(key, *v, lo, hi));
    return *v;
  }

  absl::Status CheckRange(std::string_view key, int64_t v, int64_t lo, int64_t hi) const {
    if (v < lo || v > hi) return Error(key, absl::StrCat("value ", v, " is outside [", lo, ", ", hi, "]"));
    return absl::OkStatus();
  }

  // bos_token_id / eos_token_id: an id, a list of ids (the first counts), or null.
  absl::StatusOr<std::optional<int64_t>> TokenId(const char* key, int64_t vocab_size) const {
    const json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    const json* id = v;
    if (v->is_array()) {
      if (v->empty()) return std::nullopt;
      id = &(*v)[0];
    }
    EMBER_ASSIGN_OR_RETURN(int64_t value, IntValue(key, *id));
    EMBER_RETURN_IF_ERROR(CheckRange(key, value, 0, vocab_size - 1));
    return value;
  }

  // Every id of a token-id field that may be an id or a list of ids; empty if absent.
  absl::StatusOr<std::vector<int64_t>> TokenIds(const char* key, int64_t vocab_size) const {
    std::vector<int64_t> ids;
    const json* v = Find(key);
    if (v == nullptr) return ids;
    if (!v->is_array()) {
      EMBER_ASSIGN_OR_RETURN(int64_t id, IntValue(key, *v));
      EMBER_RETURN_IF_ERROR(CheckRange(key, id, 0, vocab_size - 1));
      ids.push_back(id);
      return ids;
    }
    for (const json& element : *v) {
      EMBER_ASSIGN_OR_RETURN(int64_t id, IntValue(key, element));
      EMBER_RETURN_IF_ERROR(CheckRange(key, id, 0, vocab_size - 1));
      ids.push_back(id);
    }
    return ids;
  }

 private:
  const json& object_;
  std::string_view source_;
};

struct ModelDefaults {
  const char* norm_eps_key;
  double norm_eps;
  const char* hidden_act;
};

// The defaults of transformers' PhiConfig / LlamaConfig / MistralConfig.
const ModelDefaults* DefaultsFor(std::string_view model_type) {
  static const ModelDefaults kPhi{"layer_norm_eps", 1e-5, "gelu_new"};
  static const ModelDefaults kLlama{"rms_norm_eps", 1e-6, "silu"};
  if (model_type == "phi") return &kPhi;
  if (model_type == "llama" || model_type == "mistral") return &kLlama;
  return nullptr;
}

absl::StatusOr<HfConfig> ParseFields(const json& root, std::string_view source) {
  if (!root.is_object()) {
    return InvalidModelError(absl::StrCat(AV(source), ": expected a JSON object, got ", JsonTypeName(root)));
  }
  ConfigFields f(root, source);
  HfConfig c;

  EMBER_ASSIGN_OR_RETURN(std::optional<std::string> model_type, f.String("model_type"));
  if (!model_type.has_value()) return f.Error("model_type", "missing");
  c.model_type = *model_type;
  const ModelDefaults* defaults = DefaultsFor(c.model_type);
  if (defaults == nullptr) {
    return UnsupportedError(absl::StrCat(AV(source), ": model_type \"", c.model_type,
                                         "\" is not supported (ember runs phi, llama, mistral)"));
  }
  const bool is_phi = c.model_type == "phi";

  if (const json* archs = f.Find("architectures")) {
    if (!archs->is_array() || archs->empty() || !(*archs)[0].is_string()) {
      return f.Error("architectures", "expected a non-empty list of class names");
    }
    c.architecture = (*archs)[0].get<std::string>();
  }

  if (const json* scaling = f.Find("rope_scaling")) {
    std::string shown = scaling->dump();
    if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
    return UnsupportedError(absl::StrCat(AV(source), ": rope_scaling ", shown, " is not supported"));
  }

  EMBER_ASSIGN_OR_RETURN(c.hidden_size, f.RequiredInt("hidden_size", 1, kMaxHidden));
  EMBER_ASSIGN_OR_RETURN(c.num_hidden_layers, f.RequiredInt("num_hidden_layers", 1, kMaxLayers));
  EMBER_ASSIGN_OR_RETURN(c.num_attention_heads, f.RequiredInt("num_attention_heads", 1, kMaxHeads));
  EMBER_ASSIGN_OR_RETURN(c.num_key_value_heads,
                         f.OptionalInt("num_key_value_heads", c.num_attention_heads, 1, c.num_attention_heads));
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return f.Error("num_key_value_heads",
                   absl::StrCat(c.num_key_value_heads, " does not divide num_attention_heads ",
                                c.num_attention_heads));
  }
  EMBER_ASSIGN_OR_RETURN(c.intermediate_size, f.RequiredInt("intermediate_size", 1, kMaxIntermediate));
  EMBER_ASSIGN_OR_RETURN(c.vocab_size, f.RequiredInt("vocab_size", 1, kMaxVocab));
  EMBER_ASSIGN_OR_RETURN(c.max_position_embeddings,
                         f.RequiredInt("max_position_embeddings", 1, kMaxPositions));

  // Phi always splits hidden_size evenly; llama/mistral may state head_dim explicitly.
  std::optional<int64_t> head_dim;
  if (!is_phi) {
    EMBER_ASSIGN_OR_RETURN(head_dim, f.Int("head_dim"));
  }
  if (head_dim.has_value()) {
    EMBER_RETURN_IF_ERROR(f.CheckRange("head_dim", *head_dim, 1, kMaxHeadDim));
    c.head_dim = *head_dim;
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      return f.Error("num_attention_heads", absl::StrCat(c.num_attention_heads,
                                                         " does not divide hidden_size ", c.hidden_size));
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
    EMBER_RETURN_IF_ERROR(f.CheckRange("head_dim", c.head_dim, 1, kMaxHeadDim));
  }

  EMBER_ASSIGN_OR_RETURN(std::optional<double> eps, f.Number(defaults->norm_eps_key));
  c.norm_eps = eps.value_or(defaults->norm_eps);
  if (!(c.norm_eps > 0 && c.norm_eps < 1)) {
    return f.Error(defaults->norm_eps_key, absl::StrCat("value ", c.norm_eps, " is outside (0, 1)"));
  }
  EMBER_ASSIGN_OR_RETURN(std::optional<double> theta, f.Number("rope_theta"));
  c.rope_theta = theta.value_or(10000.0);
  if (!(c.rope_theta > 0 && c.rope_theta <= kMaxRopeTheta)) {
    return f.Error("rope_theta", absl::StrCat("value ", c.rope_theta, " is outside (0, ", kMaxRopeTheta, "]"));
  }

  // RoPE rotates pairs of dims, so the rotated part of a head must be even. transformers
  // truncates head_dim * factor to an integer (Phi-2: 80 * 0.4 = 32).
  EMBER_ASSIGN_OR_RETURN(std::optional<double> factor, f.Number("partial_rotary_factor"));
  if (!is_phi && factor.has_value() && *factor != 1.0) {
    return UnsupportedError(absl::StrCat(AV(source), ": partial_rotary_factor ", *factor,
                                         " is not supported for model_type ", c.model_type));
  }
  c.partial_rotary_factor = factor.value_or(is_phi ? 0.5 : 1.0);
  if (!(c.partial_rotary_factor > 0 && c.partial_rotary_factor <= 1)) {
    return f.Error("partial_rotary_factor",
                   absl::StrCat("value ", c.partial_rotary_factor, " is outside (0, 1]"));
  }
  c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * c.partial_rotary_factor);
  if (c.rotary_dim < 2 || c.rotary_dim % 2 != 0) {
    return f.Error(is_phi ? "partial_rotary_factor" : "head_dim",
                   absl::StrCat("gives ", c.rotary_dim, " rotary dims per head (head_dim ", c.head_dim,
                                "); RoPE needs a positive even number"));
  }

  if (c.model_type == "mistral") {
    // MistralConfig defaults to a 4096-token window; null turns it off.
    auto it = root.find("sliding_window");
    if (it == root.end()) {
      c.sliding_window = 4096;
    } else {
      EMBER_ASSIGN_OR_RETURN(c.sliding_window, f.OptionalInt("sliding_window", 0, 0, kMaxSlidingWindow));
    }
  }

  EMBER_ASSIGN_OR_RETURN(std::optional<bool> tie, f.Bool("tie_word_embeddings"));
  c.tie_word_embeddings = tie.value_or(false);
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string> act, f.String("hidden_act"));
  c.hidden_act = act.value_or(defaults->hidden_act);
  EMBER_ASSIGN_OR_RETURN(c.bos_token_id, f.TokenId("bos_token_id", c.vocab_size));
  EMBER_ASSIGN_OR_RETURN(c.eos_token_id, f.TokenId("eos_token_id", c.vocab_size));
  EMBER_ASSIGN_OR_RETURN(c.eos_token_ids, f.TokenIds("eos_token_id", c.vocab_size));
  // Newer transformers write "dtype" instead of "torch_dtype".
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string> dtype, f.String("torch_dtype"));
  if (!dtype.has_value()) {
    EMBER_ASSIGN_OR_RETURN(dtype, f.String("dtype"));
  }
  c.torch_dtype = dtype.value_or("");

  if (c.model_type == "llama") {
    EMBER_ASSIGN_OR_RETURN(std::optional<bool> attention_bias, f.Bool("attention_bias"));
    c.attention_bias = attention_bias.value_or(false);
    EMBER_ASSIGN_OR_RETURN(std::optional<bool> mlp_bias, f.Bool("mlp_bias"));
    c.mlp_bias = mlp_bias.value_or(false);
  }
  if (is_phi) {
    // Phi's biases are not optional: the layer always has them.
    c.attention_bias = true;
    c.mlp_bias = true;
    EMBER_ASSIGN_OR_RETURN(std::optional<bool> qk_layernorm, f.Bool("qk_layernorm"));
    if (qk_layernorm.value_or(false)) {
      return UnsupportedError(absl::StrCat(AV(source), ": qk_layernorm = true is not supported"));
    }
  }
  return c;
}

}  // namespace

absl::StatusOr<HfConfig> ParseHfConfig(std::string_view json_text, std::string_view source) {
  EMBER_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text, source));
  // dump() and the typed getters above are guarded, but keep any library exception inside.
  try {
    return ParseFields(root, source);
  } catch (const json::exception& e) {
    return InvalidModelError(absl::StrCat(AV(source), ": ", e.what()));
  }
}

absl::StatusOr<HfGenerationConfig> ParseHfGenerationConfig(std::string_view json_text,
                                                           std::string_view source,
                                                           int64_t vocab_size) {
  EMBER_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text, source));
  if (!root.is_object()) {
    return InvalidModelError(absl::StrCat(AV(source), ": expected a JSON object, got ", JsonTypeName(root)));
  }
  try {
    HfGenerationConfig g;
    EMBER_ASSIGN_OR_RETURN(g.eos_token_ids, ConfigFields(root, source).TokenIds("eos_token_id", vocab_size));
    return g;
  } catch (const json::exception& e) {
    return InvalidModelError(absl::StrCat(AV(source), ": ", e.what()));
  }
}

}  // namespace ember
