// Run-time choice of the kernel ISA. The library is built for the architecture's baseline
// (x86-64, ARMv8-A); the faster kernels are only called after the CPU (and on x86 the
// OS-enabled register state) says the machine can run them.
//
// Each architecture has a ladder of ISAs, every step running everything the steps below it
// run:
//   x86-64   scalar < avx2 (AVX2+FMA+F16C+BMI2) < avx512 (F+BW+VL+DQ+VNNI)
//   aarch64  scalar < neon (ARMv8-A Advanced SIMD) < dotprod (neon + SDOT/UDOT)
// A build has the kernels of its own architecture's ladder only. Isa values of different
// ladders do not compare: ask IsaWithin / IsaRunnable, never `<`.
//
// Environment:
//   EMBER_ISA=scalar|avx2|avx512|neon|dotprod
//                                  use at most this ISA (never more than the CPU has; a
//                                  name of the other architecture's ladder is ignored)
//   EMBER_AMX=0                    never use AMX tiles. By default, when the CPU and OS
//                                  offer AMX and the AVX-512 kernels are active, quantized
//                                  matmuls of >= 192 tokens (prefill) run on AMX-BF16 tiles:
//                                  weights bf16(dequantized), activations bf16(x), f32 sums
//                                  (kernels/amx/amx_bf16_gemm.h); decode stays int8.
//   EMBER_QUANT_NUMERICS=exact     quantized weights: dequantize to f32 and use float FMA
//                                  (default "int8": activations quantized per 32 values,
//                                  int8 dot products, as llama.cpp does)
#ifndef EMBER_KERNELS_DISPATCH_H_
#define EMBER_KERNELS_DISPATCH_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "kernels/amx_support.h"
#include "kernels/kernel_table.h"

namespace ember {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3, kDotprod = 4 };
std::string_view IsaName(Isa isa);

// Whether a machine whose best ISA is `best` runs `isa`: scalar always, otherwise `isa` must
// be on best's ladder at or below it. Pure (no CPU query), for any pair of the two ladders.
bool IsaWithin(Isa isa, Isa best);

// Every ISA of this build's architecture's ladder, scalar first (what a CPU with all of them
// runs), whatever this CPU has.
std::vector<Isa> BuildIsas();
// Best ISA this CPU and OS support, of this build's architecture.
Isa DetectedIsa();
// IsaWithin(isa, DetectedIsa()).
bool IsaRunnable(Isa isa);
// Every ISA this machine runs, scalar first, up its ladder to DetectedIsa().
std::vector<Isa> RunnableIsas();
// The ISA the kernels use: DetectedIsa(), capped by EMBER_ISA, or what SetActiveIsa chose.
Isa ActiveIsa();
// What EMBER_ISA=`value` means on a machine whose best ISA is `detected`: the named ISA if
// IsaWithin(named, detected), else `detected` (a step above it on its ladder, nullptr, an
// unknown name, a name of the other architecture's ladder).
Isa IsaFromOverride(const char* value, Isa detected);
// Selects the ISA (tests, benchmarks). Fails if the machine cannot run it.
absl::Status SetActiveIsa(Isa isa);
// The matmul row kernels of `isa` (kernels/x86/arch_isa.cc, kernels/arm/arch_isa.cc).
// Precondition: IsaRunnable(isa).
const KernelTable& KernelsFor(Isa isa);
const KernelTable& ActiveKernels();

enum class QuantNumerics { kInt8 = 0, kExact = 1 };
QuantNumerics ActiveQuantNumerics();
void SetQuantNumerics(QuantNumerics numerics);

}  // namespace ember

#endif  // EMBER_KERNELS_DISPATCH_H_
