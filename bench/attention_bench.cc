// Attention over the KV cache at Phi-2 shapes (32 heads of 80): decode (1 query over a
// context) and prefill (n queries, causal), for each KV element type, against the previous
// plain implementation (score buffer per row, scalar Dot/Softmax/Axpy) as the baseline.
// Reports GFLOP/s counting 2 x 2 x head_dim flops per (query, key, head) pair.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "kernels/attention_kernels.h"
#include "kernels/ops.h"
#include "lib/model/attention.h"
#include "lib/runtime/thread_pool.h"

namespace ember {
namespace {

constexpr int kHeads = 32, kHeadDim = 80;

struct Cache {
  std::vector<char> k, v;
  KvRows rows;
};

Cache MakeCache(int64_t n_ctx, DType type) {
  Cache c;
  const int64_t kv_dim = int64_t{kHeads} * kHeadDim;
  c.rows.capacity = n_ctx;
  c.rows.kv_dim = kv_dim;
  c.rows.type = type;
  const size_t bytes = static_cast<size_t>(n_ctx * kv_dim * c.rows.elem_bytes());
  c.k.resize(bytes);
  c.v.resize(bytes);
  c.rows.k = {c.k.data()};
  c.rows.v = {c.v.data()};
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> row(static_cast<size_t>(kv_dim));
  const KvRowKernels& store = KvRowKernelsFor(ActiveAttentionKernels(), type);
  for (int64_t p = 0; p < n_ctx; ++p) {
    for (float& x : row) x = dist(rng);
    store.store(row.data(), kv_dim, c.rows.K(0, p));
    for (float& x : row) x = dist(rng);
    store.store(row.data(), kv_dim, c.rows.V(0, p));
  }
  return c;
}

// The implementation this file replaced, for the before/after comparison (F32 only).
void PlainAttention(const float* q, int64_t n_tokens, int64_t pos, const KvRows& kv, float* out,
                    Parallel& par) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  const int64_t q_dim = int64_t{kHeads} * kHeadDim;
  par.For(n_tokens * kHeads, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / kHeads;
      const int h = static_cast<int>(task % kHeads);
      const int64_t span = pos + t + 1;
      const float* qh = q + t * q_dim + int64_t{h} * kHeadDim;
      scores.resize(static_cast<size_t>(span));
      for (int64_t j = 0; j < span; ++j) {
        scores[j] = Dot(qh, static_cast<const float*>(kv.K(0, j)) + h * kHeadDim, kHeadDim) * scale;
      }
      Softmax(scores.data(), span);
      float* o = out + t * q_dim + int64_t{h} * kHeadDim;
      std::fill(o, o + kHeadDim, 0.0f);
      for (int64_t j = 0; j < span; ++j) {
        Axpy(scores[j], static_cast<const float*>(kv.V(0, j)) + h * kHeadDim, o, kHeadDim);
      }
    }
  });
}

// Args: n_tokens, context before them, threads, kv type (0 f32, 1 f16, 2 bf16), plain (1).
void BM_Attention(benchmark::State& state) {
  const int64_t n_tokens = state.range(0), pos = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const DType type = state.range(3) == 0 ? DType::kF32 : state.range(3) == 1 ? DType::kF16 : DType::kBF16;
  const bool plain = state.range(4) != 0;
  Cache c = MakeCache(pos + n_tokens, type);
  std::vector<float> q(static_cast<size_t>(n_tokens * kHeads * kHeadDim), 0.1f);
  std::vector<float> out(q.size());
  ThreadPool pool(threads);
  const AttentionShape shape{kHeads, kHeads, kHeadDim, 0};
  for (auto _ : state) {
    if (plain) {
      PlainAttention(q.data(), n_tokens, pos, c.rows, out.data(), pool);
    } else {
      CausalAttention(q.data(), n_tokens, pos, c.rows, 0, shape, out.data(), pool);
    }
    benchmark::DoNotOptimize(out.data());
  }
  // Pairs (query, key) summed over tokens: sum_t (pos + t + 1).
  const double pairs = n_tokens * (pos + 1.0) + n_tokens * (n_tokens - 1) / 2.0;
  state.counters["GFLOP/s"] = benchmark::Counter(pairs * kHeads * kHeadDim * 4.0 * state.iterations(),
                                                 benchmark::Counter::kIsRate);
  state.counters["KV_GB/s"] = benchmark::Counter(
      n_tokens == 1 ? 2.0 * (pos + 1) * kHeads * kHeadDim * c.rows.elem_bytes() * state.iterations() : 0.0,
      benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Attention)
    ->ArgNames({"n", "pos", "t", "kv", "plain"})
    // decode at 512 and 2048 of context, plain vs fused, f32/f16/bf16, 1 and 2 threads
    ->Args({1, 511, 1, 0, 1})->Args({1, 511, 1, 0, 0})->Args({1, 511, 1, 1, 0})->Args({1, 511, 1, 2, 0})
    ->Args({1, 2047, 1, 0, 1})->Args({1, 2047, 1, 0, 0})->Args({1, 2047, 1, 1, 0})
    ->Args({1, 2047, 2, 0, 1})->Args({1, 2047, 2, 0, 0})->Args({1, 2047, 2, 1, 0})
    // prefill of 512 tokens: one layer's attention
    ->Args({512, 0, 1, 0, 1})->Args({512, 0, 1, 0, 0})->Args({512, 0, 1, 1, 0})
    ->Args({512, 0, 2, 0, 1})->Args({512, 0, 2, 0, 0})->Args({512, 0, 2, 1, 0})
    ->Unit(benchmark::kMicrosecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace ember
