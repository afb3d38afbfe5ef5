#include "lib/model/synth_writer.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kernels/quantize.h"
#include "lib/base/errors.h"
#include "lib/format/gguf.h"
#include "lib/format/gguf_writer.h"

namespace ember {
namespace {

constexpr std::string_view kTokenizerPrefix = "tokenizer.ggml.";

// SplitMix64's output function: a strong 64-bit mixer, also used to derive row seeds.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The keys llama.cpp's convert_hf_to_gguf.py writes for the architecture.
void AddArchitectureKeys(const ModelConfig& c, GgufWriter& w) {
  if (c.arch == Architecture::kPhi2) {
    w.AddUint32("phi2.context_length", c.n_ctx_train);
    w.AddUint32("phi2.embedding_length", c.n_embd);
    w.AddUint32("phi2.feed_forward_length", c.n_ff);
    w.AddUint32("phi2.block_count", c.n_layer);
    w.AddUint32("phi2.attention.head_count", c.n_head);
    w.AddUint32("phi2.attention.head_count_kv", c.n_head_kv);
    w.AddFloat32("phi2.attention.layer_norm_epsilon", c.norm_eps);
    w.AddUint32("phi2.rope.dimension_count", c.n_rot);
    return;
  }
  // Mistral is "llama" in GGUF.
  w.AddUint32("llama.block_count", c.n_layer);
  w.AddUint32("llama.context_length", c.n_ctx_train);
  w.AddUint32("llama.embedding_length", c.n_embd);
  w.AddUint32("llama.feed_forward_length", c.n_ff);
  w.AddUint32("llama.attention.head_count", c.n_head);
  w.AddUint32("llama.attention.head_count_kv", c.n_head_kv);
  w.AddFloat32("llama.rope.freq_base", c.rope_theta);
  w.AddFloat32("llama.attention.layer_norm_rms_epsilon", c.norm_eps);
  w.AddUint32("llama.vocab_size", c.n_vocab);
  w.AddUint32("llama.rope.dimension_count", c.n_rot);
  // Not written by the converter (llama.cpp ignores it) but it is how a GGUF-only loader
  // knows the window; the reference kit's tiny Mistral files carry it too.
  if (c.sliding_window > 0) w.AddUint32("llama.attention.sliding_window", c.sliding_window);
}

// Produces one tensor's bytes, a batch of rows at a time: the rows of a batch are generated
// and quantized in parallel, then written in order.
absl::Status FillTensor(const SynthTensor& t, uint64_t seed, uint64_t index, Parallel& par,
                        GgufSink& sink) {
  const int64_t cols = t.ne[0];
  int64_t rows = 1;
  for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
  const int64_t row_bytes = RowBytes(t.type, cols);
  // ~8 MB per batch: enough rows to keep every thread busy, little memory.
  const int64_t batch_rows = std::clamp<int64_t>((int64_t{8} << 20) / row_bytes, 1, rows);
  std::vector<uint8_t> out(static_cast<size_t>(batch_rows * row_bytes));
  std::mutex error_mu;
  absl::Status error;
  for (int64_t first = 0; first < rows; first += batch_rows) {
    const int64_t n = std::min(batch_rows, rows - first);
    par.For(n, [&](int64_t begin, int64_t end) {
      std::vector<float> values(static_cast<size_t>(cols));
      for (int64_t r = begin; r < end; ++r) {
        SynthRandomRow(seed, index, static_cast<uint64_t>(first + r), t.init, values.data(), cols);
        absl::Status s = QuantizeRow(t.type, values.data(), cols, out.data() + r * row_bytes);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (error.ok()) error = Annotate(s, absl::StrCat("tensor '", t.name, "'"));
        }
      }
    });
    EMBER_RETURN_IF_ERROR(error);
    EMBER_RETURN_IF_ERROR(sink.Write(out.data(), static_cast<size_t>(n * row_bytes)));
  }
  return absl::OkStatus();
}

}  // namespace

void SynthRandomRow(uint64_t seed, uint64_t tensor_index, uint64_t row, const SynthInit& init,
                    float* out, int64_t n) {
  // Sum of four uniform 16-bit values: mean 4 * 32767.5, stddev 65536 / sqrt(3).
  constexpr float kCenter = 4 * 32767.5f;
  constexpr float kUnit = 1.7320508f / 65536.0f;
  const float scale = init.stddev * kUnit;
  uint64_t state = Mix(seed ^ Mix(tensor_index * 0x100000001B3ull ^ Mix(row + 0x632BE59BD9B4E019ull)));
  for (int64_t i = 0; i < n; ++i) {
    state += 0x9E3779B97F4A7C15ull;
    const uint64_t x = Mix(state);
    const uint32_t sum = static_cast<uint32_t>((x & 0xFFFF) + ((x >> 16) & 0xFFFF) +
                                               ((x >> 32) & 0xFFFF) + (x >> 48));
    out[i] = init.mean + (static_cast<float>(sum) - kCenter) * scale;
  }
}

absl::StatusOr<SynthResult> WriteSynthModel(const SynthOptions& options, const std::string& path,
                                            Parallel& par) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> vocab, GgufFile::Open(options.vocab_path));
  EMBER_ASSIGN_OR_RETURN(std::vector<std::string_view> tokens,
                         vocab->GetStringArray("tokenizer.ggml.tokens"));
  if (tokens.empty()) {
    return InvalidModelError(
        absl::StrCat(options.vocab_path, ": no vocabulary (metadata 'tokenizer.ggml.tokens' is missing or empty)"));
  }
  SynthResult result;
  result.config = options.config;
  ModelConfig& c = result.config;
  if (c.n_vocab == 0) {
    c.n_vocab = static_cast<int32_t>(tokens.size());
  } else if (static_cast<size_t>(c.n_vocab) != tokens.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.vocab_path, " has ", tokens.size(), " tokens but the ", c.arch_name, " shape has a vocabulary of ",
        c.n_vocab, " (use the architecture's own tokenizer, or a tiny-* shape)"));
  }
  EMBER_ASSIGN_OR_RETURN(std::vector<SynthTensor> plan, PlanSynthTensors(c, options.file_type));

  GgufWriter w;
  w.AddString("general.architecture", c.arch == Architecture::kPhi2 ? "phi2" : "llama");
  w.AddString("general.type", "model");
  w.AddString("general.name", options.name);
  w.AddString("general.description",
              absl::StrCat("synthetic model with random weights (ember synth, seed ", options.seed, ")"));
  AddArchitectureKeys(c, w);
  bool has_add_bos = false;
  for (const std::string& key : vocab->metadata_keys()) {
    if (!absl::StartsWith(key, AV(kTokenizerPrefix))) continue;
    has_add_bos = has_add_bos || key == "tokenizer.ggml.add_bos_token";
    EMBER_RETURN_IF_ERROR(Annotate(w.AddValue(key, *vocab->Find(key)), options.vocab_path));
  }
  // The converter writes add_bos_token = false for Phi-2 (its tokenizer adds no BOS).
  if (c.arch == Architecture::kPhi2 && !has_add_bos) w.AddBool("tokenizer.ggml.add_bos_token", false);
  w.AddUint32("general.quantization_version", 2);
  w.AddUint32("general.file_type", options.file_type.ftype_id);

  for (size_t i = 0; i < plan.size(); ++i) {
    const SynthTensor& t = plan[i];
    const uint64_t seed = options.seed;
    EMBER_RETURN_IF_ERROR(w.AddTensor(t.name, t.type, t.ne, [&t, seed, i, &par](GgufSink& sink) {
      return FillTensor(t, seed, i, par, sink);
    }));
  }
  EMBER_RETURN_IF_ERROR(w.WriteFile(path));
  result.file_bytes = w.FileSize();
  result.n_tensors = plan.size();
  return result;
}

}  // namespace ember
