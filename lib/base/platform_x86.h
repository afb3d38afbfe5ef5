// CPUID and XGETBV decoding for the x86-64 implementations of the OS seam
// (lib/base/platform_linux.cc, lib/base/platform_windows.cc): the bits mean the same on
// every OS, only the OS files include this. It knows compilers (GCC and Clang read CPUID
// through <cpuid.h>, MSVC through <intrin.h>), not operating systems.
#ifndef EMBER_BASE_PLATFORM_X86_H_
#define EMBER_BASE_PLATFORM_X86_H_

#if defined(__x86_64__) || defined(_M_X64)

#include <cstdint>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <cpuid.h>
#endif

#include "lib/base/platform.h"

namespace ember::internal {

struct CpuidRegisters {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// CPUID leaf `leaf`, sub-leaf `subleaf`; all zero when the CPU does not have the leaf.
inline CpuidRegisters Cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegisters r;
#if defined(_MSC_VER) && !defined(__clang__)
  int max[4], regs[4];
  __cpuid(max, static_cast<int>(leaf & 0x80000000u));
  if (static_cast<uint32_t>(max[0]) < leaf) return r;
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(subleaf));
  r = {static_cast<uint32_t>(regs[0]), static_cast<uint32_t>(regs[1]), static_cast<uint32_t>(regs[2]),
       static_cast<uint32_t>(regs[3])};
#else
  unsigned a, b, c, d;
  if (!__get_cpuid_count(leaf, subleaf, &a, &b, &c, &d)) return r;
  r = {a, b, c, d};
#endif
  return r;
}

// XCR0: which register state the OS saves. Call only when CPUID says OSXSAVE.
inline uint64_t ReadXcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);
#else
  uint32_t lo, hi;
  // The instruction itself, not _xgetbv: GCC's intrinsic needs -mxsave for the whole file.
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

// Fills the x86 fields of `f` from CPUID leaves 1 and 7 and, when the OS has enabled
// XSAVE, from XCR0.
inline void ReadX86CpuFeatures(CpuFeatures* f) {
  const CpuidRegisters l1 = Cpuid(1, 0);
  const CpuidRegisters l7 = Cpuid(7, 0);
  auto bit = [](uint32_t reg, int n) { return ((reg >> n) & 1u) != 0; };
  f->x86_fma = bit(l1.ecx, 12);
  f->x86_avx = bit(l1.ecx, 28);
  f->x86_f16c = bit(l1.ecx, 29);
  f->x86_avx2 = bit(l7.ebx, 5);
  f->x86_bmi2 = bit(l7.ebx, 8);
  f->x86_avx512f = bit(l7.ebx, 16);
  f->x86_avx512dq = bit(l7.ebx, 17);
  f->x86_avx512bw = bit(l7.ebx, 30);
  f->x86_avx512vl = bit(l7.ebx, 31);
  f->x86_avx512vnni = bit(l7.ecx, 11);
  f->x86_amx_bf16 = bit(l7.edx, 22);
  f->x86_amx_tile = bit(l7.edx, 24);
  const bool osxsave = bit(l1.ecx, 27);
  if (!osxsave) return;  // XGETBV would fault, and no extended state is saved
  const uint64_t xcr0 = ReadXcr0();
  f->x86_os_avx_state = (xcr0 & 0x6) == 0x6;
  f->x86_os_avx512_state = (xcr0 & 0xE6) == 0xE6;
  f->x86_os_amx_state = (xcr0 & (uint64_t{3} << 17)) == (uint64_t{3} << 17);
}

}  // namespace ember::internal

#endif  // x86-64

#endif  // EMBER_BASE_PLATFORM_X86_H_
