// Phi-2 tokenizer throughput on the reference kit's 1 MiB War and Peace corpus, from the HF
// tokenizer.json and from the GGUF vocabulary. Every run checks the ids against the kit's
// expected ids. Reference points on the kit's machine (single thread): HF tokenizers
// 1.66 MB/s, llama.cpp 2.13-2.32 MB/s.
//
// The corpus lives in the kit beside the repo (../shared/tokenizers/bench); set
// EMBER_BPE_BENCH_CORPUS to use another copy. Without it the benchmarks report an error
// and skip.
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

const std::filesystem::path kRepo = std::filesystem::path(__FILE__).parent_path().parent_path();

std::string CorpusPath() {
  if (const char* env = std::getenv("EMBER_BPE_BENCH_CORPUS")) return env;
  return (kRepo / "../shared/tokenizers/bench/war-and-peace-1MiB.txt").string();
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

struct Corpus {
  std::string text;
  std::vector<int32_t> ids;  // expected
  std::string error;
};

const Corpus& GetCorpus() {
  static const Corpus* corpus = [] {
    auto* c = new Corpus;
    const std::string path = CorpusPath();
    std::string ids_text;
    const std::string ids_path = path.substr(0, path.size() - 4) + ".phi-2.ids.txt";
    if (!ReadFile(path, &c->text) || !ReadFile(ids_path, &ids_text)) {
      c->error = "corpus not found: " + path + " (+ .phi-2.ids.txt); set EMBER_BPE_BENCH_CORPUS";
      return c;
    }
    std::istringstream in(ids_text);
    for (int32_t id; in >> id;) c->ids.push_back(id);
    return c;
  }();
  return *corpus;
}

std::unique_ptr<Tokenizer> Load(bool gguf) {
  if (gguf) {
    auto file = GgufFile::Open((kRepo / "tests/data/models/tiny-phi2.f32.gguf").string());
    if (!file.ok()) return nullptr;
    auto tok = TokenizerFromGguf(**file);
    return tok.ok() ? std::move(*tok) : nullptr;
  }
  auto tok = TokenizerFromHfDir((kRepo / "tests/data/models/tiny-phi2").string());
  return tok.ok() ? std::move(*tok) : nullptr;
}

// Warm: the tokenizer has seen the corpus before (its word cache is filled), like the
// "warm" HF figure. First: a freshly loaded tokenizer's first call.
void BM_EncodeCorpus(benchmark::State& state, bool gguf, bool warm) {
  const Corpus& corpus = GetCorpus();
  if (!corpus.error.empty()) {
    state.SkipWithError(corpus.error.c_str());
    return;
  }
  std::unique_ptr<Tokenizer> tok = Load(gguf);
  if (tok == nullptr) {
    state.SkipWithError("cannot load the tiny-phi2 tokenizer from tests/data");
    return;
  }
  std::vector<int32_t> ids;
  if (warm) (void)tok->Encode(corpus.text, EncodeOptions{}, &ids);
  for (auto _ : state) {
    if (!warm) {
      state.PauseTiming();
      tok = Load(gguf);
      state.ResumeTiming();
    }
    const absl::Status s = tok->Encode(corpus.text, EncodeOptions{}, &ids);
    if (!s.ok() || ids != corpus.ids) {
      state.SkipWithError("ids differ from war-and-peace-1MiB.phi-2.ids.txt");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.text.size()));
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(corpus.text.size()) / 1e6,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tokens"] = static_cast<double>(ids.size());
}

void BM_DecodeCorpus(benchmark::State& state, bool gguf) {
  const Corpus& corpus = GetCorpus();
  if (!corpus.error.empty()) {
    state.SkipWithError(corpus.error.c_str());
    return;
  }
  std::unique_ptr<Tokenizer> tok = Load(gguf);
  if (tok == nullptr) {
    state.SkipWithError("cannot load the tiny-phi2 tokenizer from tests/data");
    return;
  }
  std::string text;
  for (auto _ : state) {
    // HF decoding round-trips; llama.cpp's space clean-up (" 's" -> "'s", ...) may not.
    if (!tok->Decode(corpus.ids, false, &text).ok() || (!gguf && text != corpus.text)) {
      state.SkipWithError("decoded text differs from the corpus");
      return;
    }
  }
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(corpus.text.size()) / 1e6,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_EncodeCorpus, hf_warm, false, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeCorpus, gguf_warm, true, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeCorpus, hf_first_call, false, false)
    ->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCorpus, gguf_first_call, true, false)
    ->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_DecodeCorpus, hf, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeCorpus, gguf, true)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ember
