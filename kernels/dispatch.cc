#include "kernels/dispatch.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "kernels/arch_isa.h"

namespace ember {
namespace {

// Where an ISA sits: its ladder and its height on it. Scalar (height 0) is on every ladder.
struct LadderStep {
  int ladder;  // 0 x86-64, 1 aarch64, -1 any (scalar)
  int height;
};

LadderStep StepOf(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return {-1, 0};
    case Isa::kAvx2: return {0, 1};
    case Isa::kAvx512: return {0, 2};
    case Isa::kNeon: return {1, 1};
    case Isa::kDotprod: return {1, 2};
  }
  return {-1, 0};
}

// Every ISA, in enum order: within each ladder that is height order.
constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod};

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
    case Isa::kNeon: return "neon";
    case Isa::kDotprod: return "dotprod";
  }
  return "?";
}

bool IsaWithin(Isa isa, Isa best) {
  const LadderStep s = StepOf(isa), b = StepOf(best);
  return s.height == 0 || (s.ladder == b.ladder && s.height <= b.height);
}

Isa IsaFromOverride(const char* value, Isa detected) {
  if (value == nullptr) return detected;
  for (const Isa isa : kAllIsas) {
    if (IsaName(isa) == value) return IsaWithin(isa, detected) ? isa : detected;
  }
  return detected;
}

std::vector<Isa> BuildIsas() {
  std::vector<Isa> out;
  for (const Isa isa : kAllIsas) {
    if (IsaWithin(isa, arch::TopIsa())) out.push_back(isa);
  }
  return out;
}

Isa DetectedIsa() {
  static const Isa detected = arch::DetectBestIsa();
  return detected;
}

bool IsaRunnable(Isa isa) { return IsaWithin(isa, DetectedIsa()); }

std::vector<Isa> RunnableIsas() {
  std::vector<Isa> out;
  for (const Isa isa : kAllIsas) {
    if (IsaRunnable(isa)) out.push_back(isa);
  }
  return out;
}

Isa ActiveIsa() { return static_cast<Isa>(ActiveIsaSlot().load(std::memory_order_relaxed)); }

absl::Status SetActiveIsa(Isa isa) {
  if (!IsaRunnable(isa)) {
    return absl::FailedPreconditionError(absl::StrCat("this CPU cannot run ", IsaName(isa).data(), " kernels (best: ",
                                                      IsaName(DetectedIsa()).data(), ")"));
  }
  ActiveIsaSlot().store(static_cast<int>(isa), std::memory_order_relaxed);
  return absl::OkStatus();
}

const KernelTable& ActiveKernels() { return KernelsFor(ActiveIsa()); }

bool AmxUsable() {
  static const bool detected = arch::DetectAmxTiles();
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
