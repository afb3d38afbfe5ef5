// ARM64 row kernels for CPUs with the dotprod extension (armv8.2-a+dotprod: Cortex-A55/A76
// and later, Neoverse, Apple, Snapdragon X), chosen at run time by kernels/dispatch.cc
// from the HWCAP bits. Quantized weights: kernels/neon/quant_tiles.h with vdotq_s32, which
// sums four int8 x int8 products into each int32 lane (one instruction per 16 values,
// where baseline NEON needs a widening multiply, a widening multiply-add and a pairwise
// add). Float weights have no use for dotprod: the table takes NeonKernels()' float
// entries. Only called after the CPU check; no library templates or external-linkage
// inline functions here (kernels/tile_walk.h says why).
// GCC's first scheduling pass (on by default for AArch64) hoists the loads of a whole
// unrolled super-block ahead of their use and then spills them: turned off here, the Q4_K /
// Q5_K / Q6_K decode loops run 15-35% fewer instructions (bench/README.md, ARM64 section).
// Before every include, so that all functions of this translation unit share the options.
#pragma GCC optimize("no-schedule-insns")
#include <arm_neon.h>

#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/neon/quant_tiles.h"

namespace ember {
namespace neon_dotprod {
namespace {

// The int8 dot products for quant_tiles.h: each int32 lane gets 4 products (no int16
// stage, so no weight range limit).
struct SdotDot {
  static int32x4_t Half(int32x4_t acc, int8x16_t w, int8x16_t x) { return vdotq_s32(acc, w, x); }
  static int32x4_t Block(int32x4_t acc, int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    return vdotq_s32(vdotq_s32(acc, w0, x0), w1, x1);
  }
  static int32x4_t NarrowBlock(int32x4_t acc, int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    return Block(acc, w0, w1, x0, x1);
  }
};

}  // namespace
}  // namespace neon_dotprod

// NeonKernels() with the quantized entries replaced (a copy, so that this translation unit
// emits no KernelTable constructor the linker could share with baseline code). Row-exact
// like NeonKernels() (quant_tiles.h): no row_exact twins.
const KernelTable& NeonDotprodKernels() {
  static const KernelTable table = [] {
    KernelTable k = NeonKernels();
    neon_tiles::SetQuantKernels<neon_dotprod::SdotDot>(&k);
    return k;
  }();
  return table;
}

}  // namespace ember
