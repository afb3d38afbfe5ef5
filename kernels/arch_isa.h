// The architecture's half of kernels/dispatch.h: what this CPU has. One implementation per
// architecture, chosen by the build (kernels/CMakeLists.txt): kernels/x86/arch_isa.cc (CPUID),
// kernels/arm/arch_isa.cc (the platform seam's HWCAP bits). The same files map each ISA of
// their ladder to its kernels: KernelsFor (dispatch.h), AttentionKernelsFor
// (attention_kernels.h), GeluNewFor (ops.h), QuantizeQ8RowFor (q8_quantize_kernels.h).
#ifndef EMBER_KERNELS_ARCH_ISA_H_
#define EMBER_KERNELS_ARCH_ISA_H_

#include "kernels/dispatch.h"

namespace ember::arch {

// The top of this architecture's ladder (kernels/dispatch.h).
Isa TopIsa();
// The highest step of this architecture's ladder the CPU (and OS) can run. Called once.
Isa DetectBestIsa();
// Whether the CPU has AMX-TILE and AMX-BF16, the OS enables tile state and grants this
// process tile data (asked once, here). Always false off x86-64. Called once.
bool DetectAmxTiles();

}  // namespace ember::arch

#endif  // EMBER_KERNELS_ARCH_ISA_H_
