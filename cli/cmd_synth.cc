// `ember synth`: writes a synthetic full-size model (exact shapes, real vocabulary, random
// weights) for benchmarks, in any llama.cpp file type ember can quantize to.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "lib/model/synth_plan.h"
#include "lib/model/synth_writer.h"
#include "lib/runtime/thread_pool.h"

namespace ember::cli {
namespace {

constexpr char kCmd[] = "synth";

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "ember %s: %s\n", kCmd, std::string(s.message()).c_str());
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int RunSynth() {
  const std::string out_path = absl::GetFlag(FLAGS_o);
  const std::string vocab_path = absl::GetFlag(FLAGS_vocab);
  if (out_path.empty()) return UsageError(kCmd, "-o OUT.gguf is required");
  if (vocab_path.empty()) return UsageError(kCmd, "--vocab TOKENIZER.gguf is required");
  absl::StatusOr<SynthShape> shape = SynthShapeByName(absl::GetFlag(FLAGS_arch));
  if (!shape.ok()) return Fail(shape.status());
  absl::StatusOr<SynthFileType> type = SynthFileTypeByName(absl::GetFlag(FLAGS_type));
  if (!type.ok()) return Fail(type.status());
  const int32_t layers = absl::GetFlag(FLAGS_layers);
  if (layers < 0) return UsageError(kCmd, "--layers must be >= 1 (0 = the architecture's own)");

  SynthOptions options;
  options.config = shape->config;
  if (layers > 0) options.config.n_layer = layers;
  options.file_type = *type;
  options.vocab_path = vocab_path;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.name = "ember-synth " + shape->name;
  int threads = absl::GetFlag(FLAGS_t);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(threads);

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<SynthResult> result = WriteSynthModel(options, out_path, pool);
  if (!result.ok()) return Fail(result.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ModelConfig& c = result->config;
  std::fprintf(stderr,
               "ember synth: wrote %s: %s %s, %d layers, n_embd %d, %d/%d heads, n_ff %d, vocab %d, "
               "%zu tensors, %.3f GB in %.1f s (%.0f MB/s, %d threads)\n",
               out_path.c_str(), shape->name.c_str(), std::string(type->name).c_str(), c.n_layer, c.n_embd,
               c.n_head, c.n_head_kv, c.n_ff, c.n_vocab, result->n_tensors, result->file_bytes / 1e9, seconds,
               result->file_bytes / 1e6 / seconds, threads);
  return 0;
}

}  // namespace ember::cli
