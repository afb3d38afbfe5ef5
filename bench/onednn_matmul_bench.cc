// oneDNN matmul on the shapes of bench/matmul_bench.cc, to decide whether prefill should
// call oneDNN or ember's own VNNI kernels (issue 5: "whichever measures faster; keep the
// measurement"). Debian's libdnnl 2.6 runs on OpenMP, which the library must not force on
// its hosts, so oneDNN only ever appears in this benchmark.
//
// u8s8: activations u8 x weights s8 -> f32 with one scale per output column (oneDNN has no
// per-32-value block scales, so this is less work than ember's Q8_0 path). bf16: bf16 x bf16
// -> f32. Weights are reordered once into oneDNN's preferred layout outside the timed loop.
//
// Time is process CPU time divided by the thread count (the machine is shared): GOP/s is
// what the run would reach if its threads were never preempted; spinning counts against it.
//
//   taskset -c 0,1 onednn_matmul_bench --benchmark_repetitions=3
#include <omp.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

constexpr double kVnniGOPsPerCore = 750.0;  // /work/shared/perf/README.md

struct Shape {
  int64_t rows, cols;  // weight rows (N, outputs) x cols (K, inputs)
};

void FillRandom(void* data, size_t bytes) {
  std::mt19937 rng(7);
  auto* p = static_cast<uint8_t*>(data);
  // Small codes: bf16 bit patterns stay finite (top byte < 0x40), int8 values stay varied.
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(rng() & 0x3F);
}

void BM_OneDnnMatMul(benchmark::State& state, dt weight_type, Shape shape, int64_t n_tokens, int threads) {
  omp_set_num_threads(threads);
  const int64_t m = n_tokens, k = shape.cols, n = shape.rows;
  const dt src_type = weight_type == dt::s8 ? dt::u8 : dt::bf16;
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dnnl::memory::desc src_md({m, k}, src_type, tag::ab);
    const dnnl::memory::desc plain_w_md({k, n}, weight_type, tag::ab);
    const dnnl::memory::desc any_w_md({k, n}, weight_type, tag::any);
    const dnnl::memory::desc dst_md({m, n}, dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    if (weight_type == dt::s8) attr.set_output_scales(1 << 1, std::vector<float>(static_cast<size_t>(n), 0.01f));
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, any_w_md, dst_md), attr, engine);

    dnnl::memory src(src_md, engine), dst(dst_md, engine), plain_w(plain_w_md, engine);
    FillRandom(src.get_data_handle(), src_md.get_size());
    FillRandom(plain_w.get_data_handle(), plain_w_md.get_size());
    dnnl::memory w(pd.weights_desc(), engine);
    dnnl::reorder(plain_w, w).execute(stream, plain_w, w);
    dnnl::matmul mm(pd);
    const std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}};
    mm.execute(stream, args);  // warm-up: JIT and first-touch
    stream.wait();
    for (auto _ : state) {
      mm.execute(stream, args);
      stream.wait();
    }
    state.SetLabel(pd.impl_info_str());
  } catch (const dnnl::error& e) {
    state.SkipWithError(e.what());
    return;
  }
  const double ops = 2.0 * m * n * k;
  // Rates over process CPU time / threads (see the file comment).
  state.counters["GOP/s"] =
      benchmark::Counter(ops * 1e-9 * threads * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["vnni_pct"] = benchmark::Counter(
      ops * 1e-9 * 100.0 / kVnniGOPsPerCore * state.iterations(), benchmark::Counter::kIsRate);
}

const bool kRegistered = [] {
  benchmark::AddCustomContext("time", "process CPU time / threads; vnni_pct vs 750 GOP/s per core");
  for (dt type : {dt::s8, dt::bf16}) {
    for (Shape s : {Shape{2560, 2560}, Shape{10240, 2560}}) {
      for (int64_t n_tokens : {512}) {
        for (int threads : {1, 2}) {
          const std::string name = absl::StrCat(type == dt::s8 ? "u8s8" : "bf16", "/", s.rows, "x", s.cols,
                                                "/n", n_tokens, "/t", threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_OneDnnMatMul, type, s, n_tokens, threads)
              ->Unit(benchmark::kMillisecond)
              ->MeasureProcessCPUTime()
              ->MinTime(0.5);
        }
      }
    }
  }
  return true;
}();

}  // namespace
