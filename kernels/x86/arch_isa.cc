// x86-64's half of the dispatch (kernels/arch_isa.h): which of scalar < avx2 < avx512 the
// machine runs and whether it has AMX, from the platform seam's CPU features
// (lib/base/platform.h: CPUID, XGETBV, the OS's AMX permission); each ISA's kernels.
#include "kernels/arch_isa.h"

#include "kernels/attention_kernels.h"
#include "kernels/ops.h"
#include "kernels/q8_quantize_kernels.h"
#include "lib/base/platform.h"

namespace ember {
namespace arch {

Isa TopIsa() { return Isa::kAvx512; }

// AVX2 = AVX2+FMA+F16C+BMI2; AVX-512 = F+BW+VL+DQ+VNNI, each with its register state
// enabled by the OS.
Isa DetectBestIsa() {
  const CpuFeatures& f = HostCpuFeatures();
  if (!(f.x86_os_avx_state && f.x86_avx && f.x86_fma && f.x86_f16c && f.x86_avx2 && f.x86_bmi2)) {
    return Isa::kScalar;
  }
  const bool avx512 = f.x86_avx512f && f.x86_avx512dq && f.x86_avx512bw && f.x86_avx512vl && f.x86_avx512vnni;
  return avx512 && f.x86_os_avx512_state ? Isa::kAvx512 : Isa::kAvx2;
}

// AMX-TILE and AMX-BF16, tile state enabled by the OS, and tile data granted to this
// process (Linux grants it on request).
bool DetectAmxTiles() {
  const CpuFeatures& f = HostCpuFeatures();
  return f.x86_amx_tile && f.x86_amx_bf16 && f.x86_os_amx_state && RequestAmxTileData();
}

}  // namespace arch

// Each lookup: the ISA's own kernels; anything not on this ladder (never runnable here,
// SetActiveIsa refuses it) gets the scalar ones.

const KernelTable& KernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return Avx512Kernels();
    case Isa::kAvx2: return Avx2Kernels();
    default: return ScalarKernels();
  }
}

const AttentionKernelTable& AttentionKernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return Avx512AttentionKernels();
    case Isa::kAvx2: return Avx2AttentionKernels();
    default: return ScalarAttentionKernels();
  }
}

GeluNewFn GeluNewFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return GeluNewAvx512;
    case Isa::kAvx2: return GeluNewAvx2;
    default: return GeluNewScalar;
  }
}

QuantizeQ8RowFn QuantizeQ8RowFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return QuantizeQ8RowAvx512;
    case Isa::kAvx2: return QuantizeQ8RowAvx2;
    default: return QuantizeQ8RowScalar;
  }
}

}  // namespace ember
