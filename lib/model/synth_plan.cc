#include "lib/model/synth_plan.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/errors.h"

namespace ember {
namespace {

ModelConfig Shape(Architecture arch, int32_t n_embd, int32_t n_layer, int32_t n_head,
                  int32_t n_head_kv, int32_t n_ff, int32_t n_rot, int32_t n_vocab,
                  int32_t n_ctx_train, int32_t sliding_window) {
  ModelConfig c;
  c.arch = arch;
  c.arch_name = arch == Architecture::kPhi2 ? "phi2" : arch == Architecture::kMistral ? "mistral" : "llama";
  c.n_embd = n_embd;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.n_head_kv = n_head_kv;
  c.head_dim = n_embd / n_head;
  c.n_ff = n_ff;
  c.n_rot = n_rot;
  c.n_vocab = n_vocab;
  c.n_ctx_train = n_ctx_train;
  c.sliding_window = sliding_window;
  c.rope_theta = 10000.0f;
  c.norm_eps = 1e-5f;
  return c;
}

// Hugging Face configs of microsoft/phi-2, meta-llama/Llama-2-7b-hf and
// mistralai/Mistral-7B-v0.1; the tiny shapes keep every row a multiple of 256 so that all
// block types (K-quants included) apply.
const SynthShape kShapes[] = {
    {"phi2", Shape(Architecture::kPhi2, 2560, 32, 32, 32, 10240, 32, 51200, 2048, 0)},
    {"llama2-7b", Shape(Architecture::kLlama, 4096, 32, 32, 32, 11008, 128, 32000, 4096, 0)},
    {"mistral-7b", Shape(Architecture::kMistral, 4096, 32, 32, 8, 14336, 128, 32000, 32768, 4096)},
    {"tiny-phi2", Shape(Architecture::kPhi2, 256, 2, 4, 4, 1024, 32, 0, 2048, 0)},
    {"tiny-llama", Shape(Architecture::kLlama, 256, 2, 4, 4, 512, 64, 0, 4096, 0)},
    {"tiny-mistral", Shape(Architecture::kMistral, 256, 2, 4, 2, 512, 64, 0, 32768, 32)},
};

const SynthFileType kFileTypes[] = {
    {"F32", 0, DType::kF32},     {"F16", 1, DType::kF16},       {"BF16", 32, DType::kBF16},
    {"Q4_0", 2, DType::kQ4_0},   {"Q8_0", 7, DType::kQ8_0},     {"Q4_K_S", 14, DType::kQ4_K},
    {"Q4_K_M", 15, DType::kQ4_K}, {"Q5_K_S", 16, DType::kQ5_K}, {"Q5_K_M", 17, DType::kQ5_K},
    {"Q6_K", 18, DType::kQ6_K},
};

bool IsQuantized(DType t) { return t != DType::kF32 && t != DType::kF16 && t != DType::kBF16; }

// llama.cpp's "use more bits" layer pattern: the first and last eighth of the layers and
// every third layer in between.
bool UseMoreBits(int layer, int n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

// The mix rule, following llama.cpp's llama_tensor_get_type in spirit for these types:
//   * float file types (F32/F16/BF16): every matrix has the base type;
//   * output.weight: Q6_K for every quantized type except Q8_0 (which keeps Q8_0), or
//     Q8_0 when its rows are not a multiple of 256;
//   * Q4_K_M / Q5_K_M: attn_v and ffn_down of the UseMoreBits layers are Q6_K;
//   * Q4_K_S: attn_v of layers 0-3 and ffn_down of the first eighth of layers are Q5_K;
//   * everything else (token_embd included) has the base type.
// 1-D tensors (norms, biases) are always F32.
DType MatrixType(const SynthFileType& ft, std::string_view role, int layer, int n_layer, int64_t cols) {
  const std::string_view name = ft.name;
  if (!IsQuantized(ft.base)) return ft.base;
  if (role == "output") {
    if (ft.base == DType::kQ8_0) return DType::kQ8_0;
    return cols % 256 == 0 ? DType::kQ6_K : DType::kQ8_0;
  }
  const bool more_bits_mix = name == "Q4_K_M" || name == "Q5_K_M";
  if (role == "attn_v") {
    if (more_bits_mix && UseMoreBits(layer, n_layer)) return DType::kQ6_K;
    if (name == "Q4_K_S" && layer < 4) return DType::kQ5_K;
  }
  if (role == "ffn_down") {
    if (more_bits_mix && UseMoreBits(layer, n_layer)) return DType::kQ6_K;
    if (name == "Q4_K_S" && layer < n_layer / 8) return DType::kQ5_K;
  }
  return ft.base;
}

}  // namespace

absl::StatusOr<SynthShape> SynthShapeByName(std::string_view name) {
  for (const SynthShape& s : kShapes) {
    if (s.name == name) return s;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown architecture '", AV(name), "' (", SynthShapeNames(), ")"));
}

std::string SynthShapeNames() {
  std::vector<std::string> names;
  for (const SynthShape& s : kShapes) names.push_back(s.name);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<SynthFileType> SynthFileTypeByName(std::string_view name) {
  for (const SynthFileType& t : kFileTypes) {
    if (t.name == name) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown type '", AV(name), "' (", SynthFileTypeNames(), ")"));
}

std::string SynthFileTypeNames() {
  std::vector<std::string> names;
  for (const SynthFileType& t : kFileTypes) names.push_back(std::string(t.name));
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::vector<SynthTensor>> PlanSynthTensors(const ModelConfig& c,
                                                          const SynthFileType& ft) {
  if (c.n_vocab <= 0 || c.n_layer <= 0 || c.n_embd <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 ||
      c.n_ff <= 0 || c.n_embd % c.n_head != 0 || c.n_head % c.n_head_kv != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("synthetic shape is inconsistent: n_vocab ", c.n_vocab, ", n_layer ", c.n_layer,
                     ", n_embd ", c.n_embd, ", heads ", c.n_head, "/", c.n_head_kv, ", n_ff ", c.n_ff));
  }
  const bool phi = c.arch == Architecture::kPhi2;
  const int64_t n_embd = c.n_embd, n_ff = c.n_ff, n_vocab = c.n_vocab;
  const int64_t n_embd_kv = int64_t{c.head_dim} * c.n_head_kv;
  std::vector<SynthTensor> out;
  // Linear weights N(0, 1/fan_in) keep activations at unit scale; the output layer is 3x
  // that so logits vary (as the reference kit's tiny models do); norms are ~1.
  auto matrix = [&](std::string name, std::string_view role, int layer, int64_t cols, int64_t rows,
                    float gain) {
    const DType type = MatrixType(ft, role, layer, c.n_layer, cols);
    out.push_back({std::move(name), type, {cols, rows}, {0.0f, gain / std::sqrt(static_cast<float>(cols))}});
  };
  auto vec = [&](std::string name, int64_t n, float mean, float stddev) {
    out.push_back({std::move(name), DType::kF32, {n}, {mean, stddev}});
  };
  out.push_back({"token_embd.weight", MatrixType(ft, "token_embd", 0, c.n_layer, n_embd), {n_embd, n_vocab},
                 {0.0f, 1.0f}});
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = absl::StrCat("blk.", i, ".");
    vec(p + "attn_norm.weight", n_embd, 1.0f, 0.1f);
    if (phi) vec(p + "attn_norm.bias", n_embd, 0.0f, 0.1f);
    matrix(p + "attn_q.weight", "attn_q", i, n_embd, n_embd, 1.0f);
    if (phi) vec(p + "attn_q.bias", n_embd, 0.0f, 0.1f);
    matrix(p + "attn_k.weight", "attn_k", i, n_embd, n_embd_kv, 1.0f);
    if (phi) vec(p + "attn_k.bias", n_embd_kv, 0.0f, 0.1f);
    matrix(p + "attn_v.weight", "attn_v", i, n_embd, n_embd_kv, 1.0f);
    if (phi) vec(p + "attn_v.bias", n_embd_kv, 0.0f, 0.1f);
    matrix(p + "attn_output.weight", "attn_output", i, n_embd, n_embd, 1.0f);
    if (phi) {
      vec(p + "attn_output.bias", n_embd, 0.0f, 0.1f);
      matrix(p + "ffn_up.weight", "ffn_up", i, n_embd, n_ff, 1.0f);
      vec(p + "ffn_up.bias", n_ff, 0.0f, 0.1f);
      matrix(p + "ffn_down.weight", "ffn_down", i, n_ff, n_embd, 1.0f);
      vec(p + "ffn_down.bias", n_embd, 0.0f, 0.1f);
    } else {
      vec(p + "ffn_norm.weight", n_embd, 1.0f, 0.1f);
      matrix(p + "ffn_gate.weight", "ffn_gate", i, n_embd, n_ff, 1.0f);
      matrix(p + "ffn_up.weight", "ffn_up", i, n_embd, n_ff, 1.0f);
      matrix(p + "ffn_down.weight", "ffn_down", i, n_ff, n_embd, 1.0f);
    }
  }
  vec("output_norm.weight", n_embd, 1.0f, 0.1f);
  if (phi) vec("output_norm.bias", n_embd, 0.0f, 0.1f);
  matrix("output.weight", "output", 0, n_embd, n_vocab, 3.0f);
  if (phi) vec("output.bias", n_vocab, 0.0f, 0.2f);

  for (const SynthTensor& t : out) {
    if (RowBytes(t.type, t.ne[0]) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor '", t.name, "': rows of ", t.ne[0], " values are not a whole number of ",
          AV(Traits(t.type).name), " blocks of ", Traits(t.type).block_elems));
    }
  }
  return out;
}

}  // namespace ember
