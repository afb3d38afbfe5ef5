// aarch64's int8 peak loop (cli/int8_peak_kernels.h): SDOT (the dot-product extension), 16
// s8 x s8 products summed into 4 int32 lanes per instruction. The function is compiled with
// the extension by a target attribute and called only when the CPU reports it.
#include <arm_neon.h>

#include <cstdint>

#include "cli/int8_peak_kernels.h"
#include "lib/base/platform.h"

namespace ember::cli {
namespace {

// Each chain multiplies its own accumulator's bytes, or the compiler would hoist the
// (loop-invariant) products.
__attribute__((target("arch=armv8.2-a+dotprod"))) uint64_t RunSdot(int64_t iterations) {
#define EMBER_DECLARE(c) int32x4_t acc##c = vdupq_n_s32(c);
  EMBER_PEAK_CHAINS(EMBER_DECLARE)
#undef EMBER_DECLARE
  const int8x16_t b = vdupq_n_s8(-1);
  for (int64_t i = 0; i < iterations; ++i) {
#define EMBER_STEP(c) acc##c = vdotq_s32(acc##c, vreinterpretq_s8_s32(acc##c), b);
    EMBER_PEAK_CHAINS(EMBER_STEP)
#undef EMBER_STEP
  }
  int32x4_t sum = vdupq_n_s32(0);
#define EMBER_SUM(c) sum = vaddq_s32(sum, acc##c);
  EMBER_PEAK_CHAINS(EMBER_SUM)
#undef EMBER_SUM
  return static_cast<uint64_t>(static_cast<uint32_t>(vaddvq_s32(sum)));
}

}  // namespace

Int8PeakKernel BestInt8PeakKernel() {
  if (HostCpuFeatures().arm_dotprod) return {RunSdot, kInt8PeakChains * 16.0, "sdot"};
  return {nullptr, 0, "none (no dot product)"};
}

}  // namespace ember::cli
