// GeluNew and the Q8 activation quantizer, each per-ISA twin on its own, at Phi-2 prefill
// shapes (512 tokens: the MLP's 10240-wide GELU input, the quantized 2560- and 10240-wide
// matmul inputs) and at an L2-resident size. Reports GB/s of float input.
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "kernels/q8_activation_buffer.h"

namespace ember {
namespace {

// Activations as the MLP produces them: roughly normal, a few large.
std::vector<float> Activations(int64_t n) {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.5f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

bool Has(benchmark::State& state, Isa isa) {
  if (IsaRunnable(isa)) return true;
  state.SkipWithError("ISA not available on this CPU");
  return false;
}

// Every ISA of this build's architecture as a benchmark argument (the Isa value: 0 scalar,
// 1 avx2, 2 avx512, 3 neon, 4 dotprod), after `fixed` leading arguments.
void ForEachBuildIsa(benchmark::internal::Benchmark* b, const std::vector<std::vector<int64_t>>& fixed) {
  for (const std::vector<int64_t>& args : fixed) {
    for (const Isa isa : BuildIsas()) {
      std::vector<int64_t> with_isa = args;
      with_isa.push_back(static_cast<int64_t>(isa));
      b->Args(with_isa);
    }
  }
}

// Args: n values, isa.
void BM_GeluNew(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Isa isa = static_cast<Isa>(state.range(1));
  if (!Has(state, isa)) return;
  const GeluNewFn gelu = GeluNewFor(isa);
  const std::vector<float> input = Activations(n);
  std::vector<float> x = input;
  for (auto _ : state) {
    // In place: restore the input outside the timing, or repeated GELUs walk the negative
    // values into denormals (slow) and the scalar tanh into its saturated fast path.
    state.PauseTiming();
    x = input;
    state.ResumeTiming();
    gelu(x.data(), n);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetBytesProcessed(state.iterations() * n * int64_t{sizeof(float)});
}
BENCHMARK(BM_GeluNew)
    ->ArgNames({"n", "isa"})
    ->Apply([](benchmark::internal::Benchmark* b) { ForEachBuildIsa(b, {{64 * 1024}, {512 * 10240}}); })
    ->Unit(benchmark::kMicrosecond);

// Args: tokens, cols, isa.
void BM_QuantizeQ8(benchmark::State& state) {
  const int64_t n_tokens = state.range(0), cols = state.range(1);
  const Isa isa = static_cast<Isa>(state.range(2));
  if (!Has(state, isa)) return;
  const Isa saved = ActiveIsa();
  if (!SetActiveIsa(isa).ok()) return state.SkipWithError("SetActiveIsa failed");
  const std::vector<float> x = Activations(n_tokens * cols);
  Q8ActivationBuffer buf;
  for (auto _ : state) {
    buf.Quantize(x.data(), n_tokens, cols, 8, SerialParallel());
    benchmark::DoNotOptimize(buf.view().q);
  }
  state.SetBytesProcessed(state.iterations() * n_tokens * cols * int64_t{sizeof(float)});
  (void)SetActiveIsa(saved);
}
BENCHMARK(BM_QuantizeQ8)
    ->ArgNames({"tokens", "cols", "isa"})
    ->Apply([](benchmark::internal::Benchmark* b) { ForEachBuildIsa(b, {{16, 2560}, {512, 2560}, {512, 10240}}); })
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ember
