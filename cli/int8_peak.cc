#include "cli/int8_peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "cli/int8_peak_kernels.h"

namespace ember::cli {
namespace {

// Enough iterations that one pass takes ~50 ms at the expected ~2 instructions/cycle, so
// thread start-up is noise.
constexpr int64_t kIterations = int64_t{1} << 23;

}  // namespace

Int8Peak MeasureInt8Peak(int threads, int passes) {
  Int8Peak peak;
  const Int8PeakKernel kernel = BestInt8PeakKernel();
  peak.instruction = kernel.instruction;
  if (kernel.run == nullptr) return peak;
  uint64_t (*run)(int64_t) = kernel.run;
  const double products_per_iteration = kernel.products_per_iteration;
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
