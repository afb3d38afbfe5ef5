// Structured-output cost (issue 11): per-vocabulary precomputation (the token trie), schema
// compilation, and the per-token mask during a walk through a realistic JSON instance, on
// Phi-2's 51,200-token and Llama 2's 32,000-token vocabularies (tests/data tokenizers).
// "cold": a fresh GrammarConstraint per instance (every state's mask computed once);
// "warm": the same constraint reused, as a long generation revisits states. JSON mode (any
// JSON object) runs on a pretty-printed instance (newlines and indentation walk the bounded
// whitespace) and on random walks (a random allowed token at every step, as a model with
// random weights generates). Counters report the median, p99 and max of the per-token mask
// time, wall clock and the thread's CPU time (the CPU clock's own ~0.3 µs read is included).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/tokenizer/tokenizer.h"

namespace ember::grammar {
namespace {

const std::filesystem::path kData = std::filesystem::path(EMBER_SOURCE_DIR) / "tests" / "data";

// An object with nested arrays, enums, bounded strings and numbers.
constexpr char kSchema[] = R"({
  "type": "object",
  "properties": {
    "id": {"type": "string", "format": "uuid"},
    "name": {"type": "string", "minLength": 1, "maxLength": 64},
    "status": {"enum": ["active", "suspended", "deleted"]},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "score": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
    "address": {"type": "object", "properties": {
        "street": {"type": "string"}, "city": {"type": "string"},
        "country": {"type": "string", "enum": ["US", "DE", "FR", "JP"]}},
      "required": ["city", "country"], "additionalProperties": false},
    "orders": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "quantity": {"type": "integer", "minimum": 1},
        "created": {"type": "string", "format": "date-time"}},
      "required": ["sku", "quantity"]}}
  },
  "required": ["id", "name", "status", "orders"],
  "additionalProperties": false
})";

// The same data, pretty-printed (for JSON mode).
constexpr char kPrettyInstance[] = R"({
  "id": "3f2b9c1e-8d4a-4b6e-9f0a-1c2d3e4f5a6b",
  "name": "Ada Lovelace, Countess of Lovelace",
  "status": "active",
  "age": 36,
  "score": 98.25,
  "tags": [
    "math",
    "engines",
    "poetry of science"
  ],
  "address": {
    "street": "12 St James's Square",
    "city": "London",
    "country": "FR"
  },
  "orders": [
    {
      "sku": "ABC-1234",
      "quantity": 2,
      "created": "1843-07-15T10:30:00Z"
    },
    {
      "sku": "XYZ-0001",
      "quantity": 1
    }
  ]
})";

constexpr char kInstance[] =
    R"({"id":"3f2b9c1e-8d4a-4b6e-9f0a-1c2d3e4f5a6b","name":"Ada Lovelace, Countess of Lovelace",)"
    R"("status":"active","age":36,"score":98.25,"tags":["math","engines","poetry of science"],)"
    R"("address":{"street":"12 St James's Square","city":"London","country":"FR"},)"
    R"("orders":[{"sku":"ABC-1234","quantity":2,"created":"1843-07-15T10:30:00Z"},)"
    R"({"sku":"XYZ-0001","quantity":1}]})";

std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = TokenizerFromHfDir((kData / "models" / dir).string());
  if (!t.ok()) return nullptr;
  return std::move(*t);
}

void BM_VocabularyTrie(benchmark::State& state, const char* dir) {
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(dir);
  if (!tok) return state.SkipWithError("tokenizer missing");
  size_t bytes = 0, nodes = 0;
  for (auto _ : state) {
    auto trie = TokenTrie::Build(*tok, tok->n_tokens());
    bytes = (*trie)->MemoryBytes();
    nodes = (*trie)->nodes().size();
  }
  state.counters["trie_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["trie_nodes"] = static_cast<double>(nodes);
  state.counters["vocab"] = tok->n_tokens();
}

void BM_CompileSchema(benchmark::State& state) {
  size_t bytes = 0;
  for (auto _ : state) {
    auto p = CompileConstraint(GrammarKind::kJsonSchema, kSchema);
    bytes = (*p)->MemoryBytes();
  }
  state.counters["program_KB"] = static_cast<double>(bytes) / 1e3;
}

double ThreadCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Per-mask times, wall and CPU.
struct MaskTimes {
  std::vector<double> wall_us, cpu_us;
  void Measure(GrammarConstraint* c, TokenMask* mask) {
    const double c0 = ThreadCpuUs();
    const auto t0 = std::chrono::steady_clock::now();
    c->ComputeMask(mask);
    const auto t1 = std::chrono::steady_clock::now();
    cpu_us.push_back(ThreadCpuUs() - c0);
    wall_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  void Report(benchmark::State& state) {
    if (wall_us.empty()) return;
    std::sort(wall_us.begin(), wall_us.end());
    std::sort(cpu_us.begin(), cpu_us.end());
    state.counters["median_us"] = wall_us[wall_us.size() / 2];
    state.counters["p99_us"] = wall_us[wall_us.size() * 99 / 100];
    state.counters["max_us"] = wall_us.back();
    state.counters["cpu_median_us"] = cpu_us[cpu_us.size() / 2];
    state.counters["cpu_p99_us"] = cpu_us[cpu_us.size() * 99 / 100];
    state.counters["cpu_max_us"] = cpu_us.back();
  }
};

void BM_MaskPerToken(benchmark::State& state, const char* dir, GrammarKind kind, bool warm) {
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(dir);
  if (!tok) return state.SkipWithError("tokenizer missing");
  auto trie = *TokenTrie::Build(*tok, tok->n_tokens());
  auto program = *CompileConstraint(kind, kSchema);
  std::vector<int32_t> ids;
  (void)tok->Encode(kind == GrammarKind::kJsonObject ? kPrettyInstance : kInstance, EncodeOptions{}, &ids);
  MaskTimes times;
  GrammarConstraint reused(program, trie);
  TokenMask mask;
  for (auto _ : state) {
    GrammarConstraint fresh(program, trie);
    GrammarConstraint* c = warm ? &reused : &fresh;
    c->Reset();
    for (int32_t id : ids) {
      times.Measure(c, &mask);
      if (!mask.Test(id) || !c->Accept(id).ok()) return state.SkipWithError("instance rejected");
    }
    if (!c->IsComplete()) return state.SkipWithError("instance incomplete");
  }
  state.counters["tokens"] = static_cast<double>(ids.size());
  times.Report(state);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}

// JSON mode as a model with random weights drives it: every step takes a random allowed
// token (not EOS), so nearly every step meets new states. The same seed every iteration.
void BM_JsonModeRandomWalk(benchmark::State& state, const char* dir) {
  constexpr int kSteps = 200;
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(dir);
  if (!tok) return state.SkipWithError("tokenizer missing");
  auto trie = *TokenTrie::Build(*tok, tok->n_tokens());
  auto program = *CompileConstraint(GrammarKind::kJsonObject, "");
  MaskTimes times;
  TokenMask mask;
  std::vector<int32_t> allowed;
  int64_t steps = 0;
  for (auto _ : state) {
    std::mt19937 rng(11);
    GrammarConstraint c(program, trie);
    for (int step = 0; step < kSteps; ++step) {
      times.Measure(&c, &mask);
      allowed.clear();
      for (int32_t id = 0; id < mask.n; ++id) {
        if (id != trie->eos() && mask.Test(id)) allowed.push_back(id);
      }
      if (allowed.empty()) break;
      if (!c.Accept(allowed[rng() % allowed.size()]).ok()) return state.SkipWithError("masked token rejected");
      ++steps;
    }
  }
  times.Report(state);
  state.SetItemsProcessed(steps);
}

BENCHMARK_CAPTURE(BM_VocabularyTrie, phi2, "tiny-phi2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VocabularyTrie, llama2, "tiny-llama2")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompileSchema)->Unit(benchmark::kMillisecond);
constexpr GrammarKind kSchemaKind = GrammarKind::kJsonSchema;
constexpr GrammarKind kJsonMode = GrammarKind::kJsonObject;
BENCHMARK_CAPTURE(BM_MaskPerToken, phi2_cold, "tiny-phi2", kSchemaKind, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, phi2_warm, "tiny-phi2", kSchemaKind, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, llama2_cold, "tiny-llama2", kSchemaKind, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, llama2_warm, "tiny-llama2", kSchemaKind, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, phi2_jsonmode_cold, "tiny-phi2", kJsonMode, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, phi2_jsonmode_warm, "tiny-phi2", kJsonMode, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_JsonModeRandomWalk, phi2, "tiny-phi2")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ember::grammar
