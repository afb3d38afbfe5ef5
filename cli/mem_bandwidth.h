// Sustained memory read bandwidth, measured in-process so that a benchmark can state its
// roofline with the thread count it actually ran with.
#ifndef EMBER_CLI_MEM_BANDWIDTH_H_
#define EMBER_CLI_MEM_BANDWIDTH_H_

#include <cstddef>

namespace ember::cli {

// Streams through a freshly allocated `bytes`-byte buffer with `threads` threads (each reads
// its own contiguous share, with the widest vector loads the CPU has) `passes` times and
// returns the median bandwidth in bytes per second; 0 if the buffer cannot be allocated.
double MeasureReadBandwidth(int threads, size_t bytes, int passes);

}  // namespace ember::cli

#endif  // EMBER_CLI_MEM_BANDWIDTH_H_
