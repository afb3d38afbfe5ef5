// Run-time choice of the kernel ISA. The library is built for baseline x86-64; the AVX2 and
// AVX-512 kernels are only called after CPUID (and XGETBV, for the OS-enabled register
// state) say the machine can run them.
//
// Environment:
//   EMBER_ISA=scalar|avx2|avx512   use at most this ISA (never more than the CPU has)
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

#include "absl/status/status.h"
#include "kernels/amx_support.h"
#include "kernels/kernel_table.h"

namespace ember {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
std::string_view IsaName(Isa isa);

// Best ISA this CPU and OS support (AVX2 = AVX2+FMA+F16C+BMI2; AVX-512 = F+BW+VL+DQ+VNNI).
Isa DetectedIsa();
// The ISA MatMul uses: DetectedIsa(), capped by EMBER_ISA, or what SetActiveIsa chose.
Isa ActiveIsa();
// What EMBER_ISA=`value` means on a machine whose best ISA is `detected` (nullptr or an
// unknown value: `detected`).
Isa IsaFromOverride(const char* value, Isa detected);
// Selects the ISA (tests, benchmarks). Fails if the machine cannot run it.
absl::Status SetActiveIsa(Isa isa);
const KernelTable& KernelsFor(Isa isa);  // precondition: isa <= DetectedIsa()
const KernelTable& ActiveKernels();

enum class QuantNumerics { kInt8 = 0, kExact = 1 };
QuantNumerics ActiveQuantNumerics();
void SetQuantNumerics(QuantNumerics numerics);

}  // namespace ember

#endif  // EMBER_KERNELS_DISPATCH_H_
