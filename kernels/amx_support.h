// Whether AMX tiles may be used. A header without includes on purpose: the AVX-512
// translation units need AmxUsable, and must not compile dispatch.h's Abseil inline
// functions with their ISA flags.
#ifndef EMBER_KERNELS_AMX_SUPPORT_H_
#define EMBER_KERNELS_AMX_SUPPORT_H_

namespace ember {

// Whether the AVX-512 kernels may use AMX-BF16 tiles: the CPU has AMX-TILE and AMX-BF16,
// the OS enables tile state and lets this process use tile data (RequestAmxTileData in
// lib/base/platform.h: on Linux asked once, on first call), the active ISA is AVX-512,
// EMBER_AMX is not 0 and SetAmxAllowed did not forbid it.
bool AmxUsable();
// Forbids or re-allows AMX (tests compare both paths); cannot enable what AmxUsable lacks.
void SetAmxAllowed(bool allowed);

}  // namespace ember

#endif  // EMBER_KERNELS_AMX_SUPPORT_H_
