// MatMul on Phi-2 projection shapes: decode (1 token) and prefill (64 / 512 tokens), 1 and 2
// threads, for the weight types ember runs real models in. Counters: weight_GB/s (weight
// bytes streamed per second), GOP/s (2 * rows * cols * tokens per second) and roof_pct, the
// share of this machine's limit (decode: read bandwidth 16.2 GB/s with 1 thread, 17.9 with
// 2; prefill: int8 VNNI peak 750 GOP/s per core) from /work/shared/perf/README.md.
// The machine is shared, so time is process CPU time divided by the thread count: rates are
// what the run reaches when its threads are not preempted (spin-waiting counts against it).
//
//   matmul_bench --benchmark_filter='Q4_0/2560x10240'    EMBER_ISA=avx2 matmul_bench
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "kernels/dispatch.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/row_panels.h"
#include "lib/runtime/thread_pool.h"

namespace ember {
namespace {

constexpr double kReadGBs[3] = {0.0, 16.2, 17.9};  // by thread count
constexpr double kVnniGOPsPerCore = 750.0;

struct Shape {
  int64_t rows, cols;
};
constexpr Shape kShapes[] = {{2560, 2560}, {10240, 2560}, {2560, 10240}};
constexpr DType kTypes[] = {DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

// Random weights: floats for F16, random codes with sane fp16 scales for quantized types
// (speed does not depend on the values, and this is instant even for 26M values).
const std::vector<uint8_t>& Weights(DType type, Shape s) {
  static auto* cache = new std::map<std::tuple<int, int64_t, int64_t>, std::vector<uint8_t>>();
  auto& data = (*cache)[{static_cast<int>(type), s.rows, s.cols}];
  if (!data.empty()) return data;
  data.resize(static_cast<size_t>(s.rows * RowBytes(type, s.cols)));
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  if (type == DType::kF16) {
    for (size_t i = 0; i < data.size() / 2; ++i) {
      const uint16_t h = FloatToFp16(u(rng));
      std::memcpy(&data[2 * i], &h, 2);
    }
    return data;
  }
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const int64_t block_bytes = Traits(type).block_bytes;
  for (size_t off = 0; off < data.size(); off += block_bytes) {
    const uint16_t h = FloatToFp16(0.01f);
    if (type == DType::kQ6_K) {  // d is the block's last field
      std::memcpy(&data[off + block_bytes - 2], &h, 2);
      continue;
    }
    std::memcpy(&data[off], &h, 2);
    if (type == DType::kQ4_K || type == DType::kQ5_K) std::memcpy(&data[off + 2], &h, 2);
  }
  return data;
}

// The matrix in the layout the model loader would give it: in row panels when
// `panels` (kernels/row_panels.h), the file layout otherwise.
struct Matrix {
  WeightMatrix w;
  std::unique_ptr<uint8_t[]> storage;
};

Matrix MakeMatrix(DType type, Shape s, bool panels, const std::vector<uint8_t>& data) {
  Matrix m;
  m.w = WeightMatrix{type, s.rows, s.cols, data.data(), RowBytes(type, s.cols)};
  if (panels) {
    m.storage.reset(new uint8_t[RowPanelsBytes(type, s.rows, s.cols) + 64]);
    uint8_t* aligned = m.storage.get() + (64 - reinterpret_cast<uintptr_t>(m.storage.get()) % 64) % 64;
    m.w = PackRowPanels(m.w, aligned);
  }
  return m;
}

Parallel& Pool(int threads) {
  static ThreadPool* pools[3] = {nullptr, new ThreadPool(1), new ThreadPool(2)};
  return *pools[threads];
}

void BM_MatMul(benchmark::State& state, DType type, bool panels, Shape shape, int64_t n_tokens, int threads) {
  const auto& data = Weights(type, shape);
  const Matrix m = MakeMatrix(type, shape, panels, data);
  const WeightMatrix& w = m.w;
  std::vector<float> x(static_cast<size_t>(n_tokens * shape.cols)), y(static_cast<size_t>(n_tokens * shape.rows));
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (float& v : x) v = g(rng);
  Parallel& par = Pool(threads);
  for (auto _ : state) {
    MatMul(w, x.data(), n_tokens, y.data(), par);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(shape.rows * w.row_bytes);
  const double ops = 2.0 * shape.rows * shape.cols * n_tokens;
  // Rates over process CPU time: scale by the thread count (see the file comment).
  const double n = static_cast<double>(state.iterations()) * threads;
  state.counters["weight_GB/s"] = benchmark::Counter(bytes * 1e-9 * n, benchmark::Counter::kIsRate);
  state.counters["GOP/s"] = benchmark::Counter(ops * 1e-9 * n, benchmark::Counter::kIsRate);
  // Percent of the roof: a rate too, so it scales with iterations / second like the others.
  const double per_iter_pct = n_tokens == 1 ? bytes * 1e-9 * 100.0 / kReadGBs[threads]
                                            : ops * 1e-9 * 100.0 / (kVnniGOPsPerCore * threads);
  state.counters["roof_pct"] = benchmark::Counter(per_iter_pct * n, benchmark::Counter::kIsRate);
}

// Decode from DRAM: one step runs over kStreamCopies copies of the matrix (~0.9 GB of Q4_0
// for 10240 x 2560, twice this machine's 480 MiB L3), as a model's layers stream per token.
constexpr int kStreamCopies = 64;

void BM_DecodeFromMemory(benchmark::State& state, DType type, bool panels, Shape shape, int threads) {
  const auto& data = Weights(type, shape);
  std::vector<std::vector<uint8_t>> copies(kStreamCopies, data);
  std::vector<Matrix> matrices;
  for (const auto& c : copies) matrices.push_back(MakeMatrix(type, shape, panels, c));
  std::vector<float> x(static_cast<size_t>(shape.cols)), y(static_cast<size_t>(shape.rows));
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (float& v : x) v = g(rng);
  Parallel& par = Pool(threads);
  for (auto _ : state) {
    for (const Matrix& m : matrices) MatMul(m.w, x.data(), 1, y.data(), par);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(shape.rows * RowBytes(type, shape.cols)) * kStreamCopies;
  const double n = static_cast<double>(state.iterations()) * threads;
  state.counters["weight_GB/s"] = benchmark::Counter(bytes * 1e-9 * n, benchmark::Counter::kIsRate);
  state.counters["roof_pct"] =
      benchmark::Counter(bytes * 1e-9 * 100.0 / kReadGBs[threads] * n, benchmark::Counter::kIsRate);
}

// Registers every combination; prefill runs are long, so they get few iterations.
const bool kRegistered = [] {
  benchmark::AddCustomContext("ember_isa", std::string(IsaName(ActiveIsa())));
  benchmark::AddCustomContext("roofline", "decode: weight_GB/s vs read 16.2 GB/s (t=1) / 17.9 GB/s (t=2); "
                                          "prefill: GOP/s vs int8 VNNI 750 GOP/s per core");
  for (DType type : kTypes) {
    for (bool panels : {false, true}) {
    if (panels && !RowPanelsSupported(type)) continue;
    const std::string type_name = absl::StrCat(std::string(Traits(type).name), panels ? "_panels" : "");
    for (int threads : {1, 2}) {
      const std::string name = absl::StrCat(type_name, "/10240x2560x", kStreamCopies, "/n1/t", threads);
      benchmark::RegisterBenchmark(name.c_str(), BM_DecodeFromMemory, type, panels, Shape{10240, 2560}, threads)
          ->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->MinTime(0.5);
    }
    for (Shape s : kShapes) {
      for (int64_t n : {1, 64, 512}) {
        for (int threads : {1, 2}) {
          const std::string name = absl::StrCat(type_name, "/", s.rows, "x", s.cols, "/n", n, "/t", threads);
          auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_MatMul, type, panels, s, n, threads);
          b->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
          if (n == 512) b->Iterations(2);
          else if (n == 64) b->MinTime(0.2);
          else b->MinTime(0.3);
        }
      }
    }
    }
  }
  return true;
}();

}  // namespace
}  // namespace ember
