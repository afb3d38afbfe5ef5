// Structured-output cost (issue 11): per-vocabulary precomputation (the token trie), schema
// compilation, and the per-token mask during a walk through a realistic JSON instance, on
// Phi-2's 51,200-token and Llama 2's 32,000-token vocabularies (tests/data tokenizers).
// "cold": a fresh GrammarConstraint per instance (every state's mask computed once);
// "warm": the same constraint reused, as a long generation revisits states. Counters report
// the median and the p99 of the per-token mask time.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/grammar/text_check.h"
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

void BM_MaskPerToken(benchmark::State& state, const char* dir, bool warm) {
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(dir);
  if (!tok) return state.SkipWithError("tokenizer missing");
  auto trie = *TokenTrie::Build(*tok, tok->n_tokens());
  auto program = *CompileConstraint(GrammarKind::kJsonSchema, kSchema);
  std::vector<int32_t> ids;
  (void)tok->Encode(kInstance, EncodeOptions{}, &ids);
  std::vector<double> all;
  GrammarConstraint reused(program, trie);
  for (auto _ : state) {
    GrammarConstraint fresh(program, trie);
    GrammarConstraint* c = warm ? &reused : &fresh;
    c->Reset();
    TextCheckResult r = CheckTokens(c, ids);
    if (!r.accepted || !r.complete) return state.SkipWithError("instance rejected");
    all.insert(all.end(), r.mask_us.begin(), r.mask_us.end());
  }
  std::sort(all.begin(), all.end());
  state.counters["tokens"] = static_cast<double>(ids.size());
  state.counters["median_us"] = all[all.size() / 2];
  state.counters["p99_us"] = all[all.size() * 99 / 100];
  state.counters["max_us"] = all.back();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}

BENCHMARK_CAPTURE(BM_VocabularyTrie, phi2, "tiny-phi2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VocabularyTrie, llama2, "tiny-llama2")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompileSchema)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, phi2_cold, "tiny-phi2", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, phi2_warm, "tiny-phi2", true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, llama2_cold, "tiny-llama2", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MaskPerToken, llama2_warm, "tiny-llama2", true)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ember::grammar
