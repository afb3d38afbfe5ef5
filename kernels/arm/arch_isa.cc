// aarch64's half of the dispatch (kernels/arch_isa.h): which of scalar < neon < dotprod the
// machine runs, from the platform seam's CPU features (lib/base/platform.h; on Linux the
// HWCAP_ASIMD and HWCAP_ASIMDDP bits of getauxval(AT_HWCAP)); each ISA's kernels.
//
// Matmul row kernels: kernels/neon (neon) and kernels/neon_dotprod (dotprod, whose table
// shares the neon float kernels). Dot products only change the integer matmuls, so dotprod
// shares NEON's other kernels (attention, GELU, the Q8 activation quantizer).
#include "kernels/arch_isa.h"

#include "kernels/attention_kernels.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/q8_quantize_kernels.h"
#include "lib/base/platform.h"

namespace ember {
namespace arch {

Isa TopIsa() { return Isa::kDotprod; }

Isa DetectBestIsa() {
  const CpuFeatures& f = HostCpuFeatures();
  if (!f.arm_neon) return Isa::kScalar;
  return f.arm_dotprod ? Isa::kDotprod : Isa::kNeon;
}

bool DetectAmxTiles() { return false; }

}  // namespace arch

// Each lookup: the ISA's own kernels; anything not on this ladder (never runnable here,
// SetActiveIsa refuses it) gets the scalar ones.

const KernelTable& KernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kDotprod: return NeonDotprodKernels();
    case Isa::kNeon: return NeonKernels();
    default: return ScalarKernels();
  }
}

const AttentionKernelTable& AttentionKernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kDotprod:
    case Isa::kNeon: return NeonAttentionKernels();
    default: return ScalarAttentionKernels();
  }
}

GeluNewFn GeluNewFor(Isa isa) {
  switch (isa) {
    case Isa::kDotprod:
    case Isa::kNeon: return GeluNewNeon;
    default: return GeluNewScalar;
  }
}

QuantizeQ8RowFn QuantizeQ8RowFor(Isa isa) {
  switch (isa) {
    case Isa::kDotprod:
    case Isa::kNeon: return QuantizeQ8RowNeon;
    default: return QuantizeQ8RowScalar;
  }
}

}  // namespace ember
