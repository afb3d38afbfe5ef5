// The OS seam (lib/base/platform.h) on Linux: the CPU features only, for now (the file
// mapping, memory and file functions come with the Windows port's implementation of the
// seam; nothing calls them yet). x86-64: CPUID and XGETBV, arch_prctl for AMX tile data;
// aarch64: getauxval(AT_HWCAP).
#include "lib/base/platform.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include <cstdint>

namespace ember {

#if defined(__x86_64__)
namespace {

uint64_t ReadXcr0() {
  uint32_t lo, hi;
  // xgetbv is always encodable; only executed after checking OSXSAVE.
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

CpuFeatures ReadCpuFeatures() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  unsigned b7 = 0, c7 = 0, d7 = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  if (!__get_cpuid_count(7, 0, &a, &b7, &c7, &d7)) b7 = c7 = d7 = 0;
  auto bit = [](unsigned reg, int n) { return ((reg >> n) & 1u) != 0; };
  f.x86_fma = bit(c, 12);
  f.x86_avx = bit(c, 28);
  f.x86_f16c = bit(c, 29);
  f.x86_avx2 = bit(b7, 5);
  f.x86_bmi2 = bit(b7, 8);
  f.x86_avx512f = bit(b7, 16);
  f.x86_avx512dq = bit(b7, 17);
  f.x86_avx512bw = bit(b7, 30);
  f.x86_avx512vl = bit(b7, 31);
  f.x86_avx512vnni = bit(c7, 11);
  f.x86_amx_bf16 = bit(d7, 22);
  f.x86_amx_tile = bit(d7, 24);
  if (!bit(c, 27)) return f;  // no OSXSAVE: XGETBV would fault
  const uint64_t xcr0 = ReadXcr0();
  f.x86_os_avx_state = (xcr0 & 0x6) == 0x6;
  f.x86_os_avx512_state = (xcr0 & 0xE6) == 0xE6;
  f.x86_os_amx_state = (xcr0 & (uint64_t{3} << 17)) == (uint64_t{3} << 17);
  return f;
}

}  // namespace

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = ReadCpuFeatures();
  return features;
}

bool RequestAmxTileData() {
  static const bool granted = [] {
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return ::syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
}

#elif defined(__aarch64__)

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
    const unsigned long hwcap = ::getauxval(AT_HWCAP);
    f.arm_neon = (hwcap & HWCAP_ASIMD) != 0;
    f.arm_dotprod = (hwcap & HWCAP_ASIMDDP) != 0;
    return f;
  }();
  return features;
}

bool RequestAmxTileData() { return false; }

#endif

}  // namespace ember
