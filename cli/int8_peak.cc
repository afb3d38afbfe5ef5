#include "cli/int8_peak.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>


namespace ember::cli {
namespace {

// Enough iterations that one pass takes ~50 ms at the expected ~2 instructions/cycle, so
// thread start-up is noise.
constexpr int64_t kIterations = int64_t{1} << 23;
// Twelve accumulators: vpdpbusd has a latency of 4-5 cycles and two ports on recent cores,
// so at least ten independent chains are needed to keep both busy.
constexpr int kChains = 12;

// One iteration: kChains vpdpbusd zmm, each 64 u8 x s8 products summed into 16 int32 lanes.
// The accumulators are named variables, not an array: GCC kept an array in memory (a load
// and a store around every vpdpbusd), which measured the store path, not the dot unit.
#define EMBER_PEAK_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
__attribute__((target("avx512f,avx512vnni"))) uint64_t RunVnni512(int64_t iterations) {
#define EMBER_DECLARE(c) __m512i acc##c = _mm512_set1_epi32(c);
  EMBER_PEAK_CHAINS(EMBER_DECLARE)
#undef EMBER_DECLARE
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-1);
  for (int64_t i = 0; i < iterations; ++i) {
#define EMBER_STEP(c) acc##c = _mm512_dpbusd_epi32(acc##c, a, b);
    EMBER_PEAK_CHAINS(EMBER_STEP)
#undef EMBER_STEP
  }
  __m512i sum = _mm512_setzero_si512();
#define EMBER_SUM(c) sum = _mm512_add_epi32(sum, acc##c);
  EMBER_PEAK_CHAINS(EMBER_SUM)
#undef EMBER_SUM
  // Stored and summed by hand: GCC 12's _mm512_reduce_add_epi32 warns (-Wuninitialized).
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, sum);
  return static_cast<uint64_t>(lanes[0] ^ lanes[15]);
}

// Without VNNI the int8 dot is vpmaddubsw (u8 x s8 -> s16 pairs) + vpmaddwd (-> s32) +
// vpaddd: 32 products per three instructions on ymm registers. Each chain multiplies its own
// accumulator's bytes, or the compiler would hoist the (loop-invariant) products.
__attribute__((target("avx2"))) uint64_t RunAvx2(int64_t iterations) {
#define EMBER_DECLARE(c) __m256i acc##c = _mm256_set1_epi32(c);
  EMBER_PEAK_CHAINS(EMBER_DECLARE)
#undef EMBER_DECLARE
  const __m256i b = _mm256_set1_epi8(-1), ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < iterations; ++i) {
#define EMBER_STEP(c) acc##c = _mm256_add_epi32(acc##c, _mm256_madd_epi16(_mm256_maddubs_epi16(acc##c, b), ones));
    EMBER_PEAK_CHAINS(EMBER_STEP)
#undef EMBER_STEP
  }
  __m256i sum = _mm256_setzero_si256();
#define EMBER_SUM(c) sum = _mm256_add_epi32(sum, acc##c);
  EMBER_PEAK_CHAINS(EMBER_SUM)
#undef EMBER_SUM
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  return static_cast<uint64_t>(lanes[0]);
}
#undef EMBER_PEAK_CHAINS

}  // namespace

Int8Peak MeasureInt8Peak(int threads, int passes) {
  Int8Peak peak;
  double products_per_iteration = 0;
  uint64_t (*run)(int64_t) = nullptr;
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512f")) {
    run = RunVnni512;
    products_per_iteration = kChains * 64.0;
    peak.instruction = "vpdpbusd zmm";
  } else if (__builtin_cpu_supports("avx2")) {
    run = RunAvx2;
    products_per_iteration = kChains * 32.0;
    peak.instruction = "vpmaddubsw+vpmaddwd ymm";
  } else {
    peak.instruction = "none (no AVX2)";
    return peak;
  }
  // Plain threads, one chain set each: a pool that splits a range may run two shares on one
  // worker, which would halve the figure.
  std::atomic<uint64_t> sink{0};
  std::vector<double> rates;
  for (int pass = 0; pass < std::max(1, passes); ++pass) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] { sink.fetch_xor(run(kIterations), std::memory_order_relaxed); });
    }
    for (std::thread& w : workers) w.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(2.0 * products_per_iteration * static_cast<double>(kIterations) * threads / s);
  }
  std::sort(rates.begin(), rates.end());
  peak.ops_per_second = rates[rates.size() / 2];
  return peak;
}

}  // namespace ember::cli
