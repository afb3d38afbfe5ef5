#include "kernels/dispatch.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ember {
namespace {

uint64_t ReadXcr0() {
  uint32_t lo, hi;
  // xgetbv is always encodable; we only execute it after checking OSXSAVE.
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

Isa Detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::kScalar;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12),
             f16c = c & (1u << 29);
  if (!(osxsave && avx && fma && f16c)) return Isa::kScalar;
  const uint64_t xcr0 = ReadXcr0();
  if ((xcr0 & 0x6) != 0x6) return Isa::kScalar;  // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::kScalar;
  const bool avx2 = b & (1u << 5), bmi2 = b & (1u << 8);
  if (!(avx2 && bmi2)) return Isa::kScalar;
  const bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) &&
                      (b & (1u << 31)) && (c & (1u << 11));  // F, DQ, BW, VL; VNNI
  if (avx512 && (xcr0 & 0xE6) == 0xE6) return Isa::kAvx512;  // opmask, ZMM state
  return Isa::kAvx2;
}

// AMX-TILE and AMX-BF16 in CPUID, tile state (XCR0 bits 17, 18) enabled by the OS, and
// Linux's per-process permission for tile data (which the kernel grants on request).
bool DetectAmx() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool amx_bf16 = d & (1u << 22), amx_tile = d & (1u << 24);
  if (!amx_tile || !amx_bf16) return false;
  __get_cpuid(1, &a, &b, &c, &d);
  if (!(c & (1u << 27))) return false;  // OSXSAVE
  if ((ReadXcr0() & (3u << 17)) != (3u << 17)) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return ::syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

std::atomic<bool>& AmxAllowedSlot() {
  static std::atomic<bool> slot{[] {
    const char* env = std::getenv("EMBER_AMX");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }()};
  return slot;
}

std::atomic<int>& ActiveIsaSlot() {
  static std::atomic<int> slot{static_cast<int>(IsaFromOverride(std::getenv("EMBER_ISA"), DetectedIsa()))};
  return slot;
}

std::atomic<int>& NumericsSlot() {
  static std::atomic<int> slot{[] {
    const char* env = std::getenv("EMBER_QUANT_NUMERICS");
    return static_cast<int>(env != nullptr && std::strcmp(env, "exact") == 0 ? QuantNumerics::kExact
                                                                             : QuantNumerics::kInt8);
  }()};
  return slot;
}

}  // namespace

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

Isa IsaFromOverride(const char* value, Isa detected) {
  if (value == nullptr) return detected;
  Isa wanted = detected;
  if (std::strcmp(value, "scalar") == 0) wanted = Isa::kScalar;
  if (std::strcmp(value, "avx2") == 0) wanted = Isa::kAvx2;
  if (std::strcmp(value, "avx512") == 0) wanted = Isa::kAvx512;
  return wanted < detected ? wanted : detected;
}

Isa DetectedIsa() {
  static const Isa detected = Detect();
  return detected;
}

Isa ActiveIsa() { return static_cast<Isa>(ActiveIsaSlot().load(std::memory_order_relaxed)); }

absl::Status SetActiveIsa(Isa isa) {
  if (isa > DetectedIsa()) {
    return absl::FailedPreconditionError(absl::StrCat("this CPU cannot run ", IsaName(isa).data(),
                                                      " kernels (best: ", IsaName(DetectedIsa()).data(), ")"));
  }
  ActiveIsaSlot().store(static_cast<int>(isa), std::memory_order_relaxed);
  return absl::OkStatus();
}

const KernelTable& KernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return Avx512Kernels();
    case Isa::kAvx2: return Avx2Kernels();
    case Isa::kScalar: break;
  }
  return ScalarKernels();
}

const KernelTable& ActiveKernels() { return KernelsFor(ActiveIsa()); }

bool AmxUsable() {
  static const bool detected = DetectAmx();
  return detected && ActiveIsa() == Isa::kAvx512 && AmxAllowedSlot().load(std::memory_order_relaxed);
}

void SetAmxAllowed(bool allowed) { AmxAllowedSlot().store(allowed, std::memory_order_relaxed); }

QuantNumerics ActiveQuantNumerics() {
  return static_cast<QuantNumerics>(NumericsSlot().load(std::memory_order_relaxed));
}

void SetQuantNumerics(QuantNumerics numerics) {
  NumericsSlot().store(static_cast<int>(numerics), std::memory_order_relaxed);
}

}  // namespace ember
