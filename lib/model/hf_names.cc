#include "lib/model/hf_names.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace ember {
namespace {

struct NamePair {
  std::string_view gguf;
  std::string_view hf;
};

// Per-layer tensors, without the ".weight"/".bias" suffix.
constexpr NamePair kLlamaLayer[] = {
    {"attn_norm", "input_layernorm"},     {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},       {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"},  {"ffn_norm", "post_attention_layernorm"},
    {"ffn_gate", "mlp.gate_proj"},        {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
};
constexpr NamePair kPhiLayer[] = {
    {"attn_norm", "input_layernorm"},    {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},      {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.dense"},  {"ffn_up", "mlp.fc1"},
    {"ffn_down", "mlp.fc2"},
};
constexpr NamePair kLlamaGlobal[] = {
    {"token_embd", "model.embed_tokens"}, {"output_norm", "model.norm"}, {"output", "lm_head"}};
constexpr NamePair kPhiGlobal[] = {{"token_embd", "model.embed_tokens"},
                                   {"output_norm", "model.final_layernorm"},
                                   {"output", "lm_head"}};

template <size_t N>
std::string_view Lookup(const NamePair (&table)[N], std::string_view gguf) {
  for (const NamePair& p : table) {
    if (p.gguf == gguf) return p.hf;
  }
  return {};
}

}  // namespace

std::string HfTensorName(Architecture arch, std::string_view gguf_name) {
  const bool phi = arch == Architecture::kPhi2;
  // Split off the suffix (".weight" / ".bias").
  const size_t dot = gguf_name.rfind('.');
  if (dot == std::string_view::npos) return std::string(gguf_name);
  std::string_view stem = gguf_name.substr(0, dot);
  const std::string_view suffix = gguf_name.substr(dot);
  if (absl::StartsWith(AV(stem), "blk.")) {
    const size_t layer_end = stem.find('.', 4);
    if (layer_end == std::string_view::npos) return std::string(gguf_name);
    const std::string_view layer = stem.substr(4, layer_end - 4);
    const std::string_view hf = phi ? Lookup(kPhiLayer, stem.substr(layer_end + 1))
                                    : Lookup(kLlamaLayer, stem.substr(layer_end + 1));
    if (hf.empty()) return std::string(gguf_name);
    return absl::StrCat("model.layers.", AV(layer), ".", AV(hf), AV(suffix));
  }
  const std::string_view hf = phi ? Lookup(kPhiGlobal, stem) : Lookup(kLlamaGlobal, stem);
  if (hf.empty()) return std::string(gguf_name);
  return absl::StrCat(AV(hf), AV(suffix));
}

}  // namespace ember
