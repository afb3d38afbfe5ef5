// The timed loops behind MeasureInt8Peak (cli/int8_peak.h), one file per architecture
// (cli/x86_64/, cli/aarch64/; cli/CMakeLists.txt picks EMBER_ARCH's).
#ifndef EMBER_CLI_INT8_PEAK_KERNELS_H_
#define EMBER_CLI_INT8_PEAK_KERNELS_H_

#include <cstdint>
#include <string>

namespace ember::cli {

// Twelve accumulators: the int8 dot instructions have a latency of 3-5 cycles and up to
// two ports on recent cores, so at least ten independent chains are needed to keep them busy.
inline constexpr int kInt8PeakChains = 12;
// The accumulators are named variables, not an array: GCC kept an array in memory (a load
// and a store around every dot instruction), which measured the store path, not the unit.
#define EMBER_PEAK_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

struct Int8PeakKernel {
  // `iterations` rounds of kInt8PeakChains dependent-chain dot instructions; returns a value
  // derived from the accumulators (so the loop cannot be elided). nullptr: this CPU has no
  // int8 dot instruction worth timing.
  uint64_t (*run)(int64_t iterations) = nullptr;
  double products_per_iteration = 0;  // int8 products per iteration, all chains
  std::string instruction;            // what is timed, e.g. "vpdpbusd zmm"
};

// The widest int8 dot product this CPU runs.
Int8PeakKernel BestInt8PeakKernel();

}  // namespace ember::cli

#endif  // EMBER_CLI_INT8_PEAK_KERNELS_H_
