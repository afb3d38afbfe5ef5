// CpuRelax: the spin-wait hint of this build's architecture, for polling loops (it tells
// the core the loop is waiting, which saves power and lets a sibling hyperthread run). An
// architecture matter, not an OS one, and it must inline into the loop: hence a header
// rather than a function in lib/base/platform.h.
#ifndef EMBER_BASE_CPU_RELAX_H_
#define EMBER_BASE_CPU_RELAX_H_

namespace ember {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace ember

#endif  // EMBER_BASE_CPU_RELAX_H_
