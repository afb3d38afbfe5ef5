// Tokenizer throughput on the 1 MiB War and Peace corpus of the reference kit
// (../shared/tokenizers/bench, or $EMBER_TOKENIZER_BENCH_DIR), checked against the ids the
// reference tokenizers produced. Reference points on the kit's machine (one core): HF
// tokenizers 1.25 MB/s and llama.cpp 1.06 MB/s for Llama 2, HF 1.23 MB/s for Mistral.
// MB = 10^6 bytes, as in the kit's table.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "lib/format/gguf.h"
#include "lib/tokenizer/tokenizer.h"

namespace ember {
namespace {

const std::filesystem::path kSourceDir =
    std::filesystem::path(__FILE__).parent_path().parent_path();

std::filesystem::path CorpusDir() {
  if (const char* dir = std::getenv("EMBER_TOKENIZER_BENCH_DIR")) return dir;
  return kSourceDir.parent_path() / "shared" / "tokenizers" / "bench";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int32_t> ReadIds(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<int32_t> ids;
  for (int32_t id; in >> id;) ids.push_back(id);
  return ids;
}

std::unique_ptr<Tokenizer> Load(const std::string& model) {
  const std::filesystem::path path = kSourceDir / "tests" / "data" / "models" / model;
  if (std::filesystem::is_directory(path)) {
    auto t = TokenizerFromHfDir(path.string());
    return t.ok() ? std::move(*t) : nullptr;
  }
  auto gguf = GgufFile::Open(path.string());
  if (!gguf.ok()) return nullptr;
  auto t = TokenizerFromGguf(**gguf);
  return t.ok() ? std::move(*t) : nullptr;
}

// model: a GGUF file or an HF directory under tests/data/models; ids: the corpus ids file.
void BM_EncodeCorpus(benchmark::State& state, const std::string& model, const std::string& ids) {
  const std::filesystem::path dir = CorpusDir();
  const std::filesystem::path corpus_path = dir / "war-and-peace-1MiB.txt";
  if (!std::filesystem::exists(corpus_path)) {
    state.SkipWithError(("corpus not found: " + corpus_path.string()).c_str());
    return;
  }
  const std::string corpus = ReadFile(corpus_path);
  const std::vector<int32_t> expected = ReadIds(dir / ids);
  const std::unique_ptr<Tokenizer> tokenizer = Load(model);
  if (tokenizer == nullptr) {
    state.SkipWithError(("cannot load " + model).c_str());
    return;
  }
  std::vector<int32_t> out;
  EncodeOptions options;  // no BOS, no special parsing, as the reference ids were made
  if (!tokenizer->Encode(corpus, options, &out).ok() || out != expected) {
    state.SkipWithError("encoded ids differ from the reference ids");
    return;
  }
  for (auto _ : state) {
    tokenizer->Encode(corpus, options, &out).IgnoreError();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * corpus.size());
  state.counters["MB/s"] = benchmark::Counter(
      static_cast<double>(corpus.size()) * state.iterations() / 1e6, benchmark::Counter::kIsRate);
  state.counters["tokens"] = static_cast<double>(out.size());
}

BENCHMARK_CAPTURE(BM_EncodeCorpus, llama2_gguf, "llama-2-tiny-random.gguf",
                  "war-and-peace-1MiB.llama-2.ids.txt")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);
BENCHMARK_CAPTURE(BM_EncodeCorpus, llama2_hf, "tiny-llama2", "war-and-peace-1MiB.llama-2.ids.txt")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);
BENCHMARK_CAPTURE(BM_EncodeCorpus, mistral_gguf, "tiny-mistral.q8_0.gguf",
                  "war-and-peace-1MiB.mistral.ids.txt")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);
BENCHMARK_CAPTURE(BM_EncodeCorpus, mistral_hf, "tiny-mistral", "war-and-peace-1MiB.mistral.ids.txt")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);
BENCHMARK_CAPTURE(BM_EncodeCorpus, phi2_hf, "tiny-phi2", "war-and-peace-1MiB.phi-2.ids.txt")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace
}  // namespace ember
