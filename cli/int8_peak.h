// Peak int8 multiply-add throughput, measured in-process so that a prefill figure is read
// against the machine it ran on (the Intel and AMD machines of this kind differ by ~30%:
// 750 vs 977 GOP/s per core for vpdpbusd zmm), never against a constant from elsewhere.
#ifndef EMBER_CLI_INT8_PEAK_H_
#define EMBER_CLI_INT8_PEAK_H_

#include <string>

namespace ember::cli {

struct Int8Peak {
  double ops_per_second = 0;  // 2 ops (multiply + add) per u8 x s8 product
  std::string instruction;    // what was timed, e.g. "vpdpbusd zmm"
};

// Runs independent chains of the widest int8 dot-product instruction the CPU has on each of
// `threads` threads (register-resident: no memory traffic) and returns the median of
// `passes` runs of the summed throughput.
Int8Peak MeasureInt8Peak(int threads, int passes);

}  // namespace ember::cli

#endif  // EMBER_CLI_INT8_PEAK_H_
