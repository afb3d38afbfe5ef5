#include "kernels/dispatch.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/base/platform.h"

namespace ember {
namespace {

Isa Detect() {
  const CpuFeatures& f = HostCpuFeatures();
  if (!(f.x86_avx && f.x86_fma && f.x86_f16c && f.x86_os_avx_state)) return Isa::kScalar;
  if (!(f.x86_avx2 && f.x86_bmi2)) return Isa::kScalar;
  const bool avx512 = f.x86_avx512f && f.x86_avx512dq && f.x86_avx512bw && f.x86_avx512vl && f.x86_avx512vnni;
  if (avx512 && f.x86_os_avx512_state) return Isa::kAvx512;
  return Isa::kAvx2;
}

// AMX-TILE and AMX-BF16 in CPUID, tile state enabled by the OS, and the OS's permission
// for this process to use tile data (the seam asks for it where it must be asked).
bool DetectAmx() {
  const CpuFeatures& f = HostCpuFeatures();
  if (!(f.x86_amx_tile && f.x86_amx_bf16 && f.x86_os_amx_state)) return false;
  return RequestAmxTileData();
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
