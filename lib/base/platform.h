// The operating-system seam: everything ember needs from the OS (file mappings and page
// release, anonymous memory, durable file replacement, CPU features and the permissions
// that go with them, local time). It is the only place that knows the OS: one
// implementation per OS, lib/base/platform_linux.cc and lib/base/platform_windows.cc,
// selected at build time by lib/CMakeLists.txt. Model, kernel and runtime code call these
// functions and never test _WIN32 or __linux__ themselves.
//
// Paths are UTF-8 on every OS (on Windows they are converted to UTF-16 for the wide API).
#ifndef EMBER_BASE_PLATFORM_H_
#define EMBER_BASE_PLATFORM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember {

// ---- CPU features --------------------------------------------------------------------

// What the host CPU offers AND the OS lets this process use. Read once (HostCpuFeatures);
// the kernels' dispatcher (kernels/dispatch.cc) turns it into an ISA choice. Fields of
// another architecture are false.
struct CpuFeatures {
  // x86-64 instruction sets, as CPUID reports them.
  bool x86_avx = false;
  bool x86_fma = false;
  bool x86_f16c = false;
  bool x86_avx2 = false;
  bool x86_bmi2 = false;
  bool x86_avx512f = false;
  bool x86_avx512dq = false;
  bool x86_avx512bw = false;
  bool x86_avx512vl = false;
  bool x86_avx512vnni = false;
  bool x86_amx_tile = false;
  bool x86_amx_bf16 = false;
  // Register state the OS saves across context switches (XCR0 via XGETBV; all false when
  // the OS has not enabled XSAVE). An instruction set is only usable with its state.
  bool x86_os_avx_state = false;     // XMM and YMM (XCR0 bits 1, 2)
  bool x86_os_avx512_state = false;  // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM (bits 1, 2, 5-7)
  bool x86_os_amx_state = false;     // XTILECFG and XTILEDATA (bits 17, 18)
  // ARM64: Advanced SIMD, and its SDOT/UDOT extension (FEAT_DotProd). On Linux from
  // getauxval(AT_HWCAP).
  bool arm_neon = false;
  bool arm_dotprod = false;
};

// The host's features, read on first call and cached (thread-safe).
const CpuFeatures& HostCpuFeatures();

// Whether this process may use AMX tile data, asking the OS where it must be asked:
// Linux grants it per process on request (arch_prctl ARCH_REQ_XCOMP_PERM); Windows enables
// it for every process that sees XCR0 bits 17 and 18. Call only when
// HostCpuFeatures() says x86_amx_tile and x86_os_amx_state. Thread-safe; asks once.
bool RequestAmxTileData();

// ---- Memory --------------------------------------------------------------------------

// The virtual-memory page size: the unit of the page hints below.
size_t PageSize();

// `bytes` (> 0) of zero-filled, page-aligned, readable and writable memory straight from
// the OS, or nullptr when the OS refuses. Release with FreePages(p, bytes).
void* AllocatePages(size_t bytes);
void FreePages(void* p, size_t bytes);

// Hints that [begin, begin + n) will be read (a file mapping) or written (pages from
// AllocatePages) soon, so the OS may map it in one call rather than one fault per page.
// Advice only: where the OS cannot, the pages fault in as usual.
void PopulateForReading(const void* begin, size_t n);
void PopulateForWriting(void* begin, size_t n);

// Asks for transparent huge pages on the pages covering [begin, begin + n) (a memory
// bandwidth probe wants them; the weight loader does not, see anonymous_memory.h). Advice
// only; a no-op where the OS has no such hint.
void AdviseHugePages(void* begin, size_t n);

// ---- Files ---------------------------------------------------------------------------

// A read-only, private mapping of a whole regular file. The mapping keeps the file's
// contents reachable after the file is closed (and on Linux after it is removed).
struct FileMapping {
  const uint8_t* data = nullptr;  // nullptr for an empty file
  size_t size = 0;
};

// Maps `path` read-only. IoError naming the path if it cannot be opened, is not a regular
// file or cannot be mapped. An empty file gives {nullptr, 0} (nothing to unmap).
absl::StatusOr<FileMapping> MapFileReadOnly(const std::string& path);
// Releases a mapping from MapFileReadOnly (no-op for an empty one).
void UnmapFile(const FileMapping& mapping);
// Drops the whole pages of [begin, begin + n) (inside a FileMapping) from this process's
// resident set; reading them later faults them back in from the file. Advice only.
void ReleaseFilePages(const void* begin, size_t n);

// Creates a new file with a unique name beside `path` (same directory, so it can replace
// `path` atomically), writes `bytes`, makes it an ordinary user-readable file, flushes it
// to the disk and closes it. Returns its name. IoError naming the step on failure, after
// which no temporary file is left.
absl::StatusOr<std::string> WriteTemporaryFileBeside(const std::string& path, std::string_view bytes);

// Renames `from` over `to`, replacing `to` if it exists, atomically where the file system
// allows (POSIX rename; Windows MoveFileEx with MOVEFILE_REPLACE_EXISTING). IoError naming
// both on failure; `from` is then left in place.
absl::Status RenameReplacing(const std::string& from, const std::string& to);

// Removes a file; errors are ignored (cleanup after a failure).
void RemoveFileQuietly(const std::string& path);

// What `path` names, following symbolic links: nothing (or nothing this process may
// look at), a regular file, a directory, or something else (a device, a pipe). The
// std::filesystem calls would do on Linux, but on Windows they read a char path in the
// ANSI code page, so a non-ASCII UTF-8 path would name another file.
enum class PathKind { kMissing, kRegularFile, kDirectory, kOther };
PathKind PathKindOf(const std::string& path);

// Creates (or truncates) `path` for writing through stdio, binary mode; nullptr with errno
// set when it cannot (on Windows also for a path that is not valid UTF-8: EINVAL). Close
// it with std::fclose.
std::FILE* CreateFileForWriting(const std::string& path);

// Reads the whole regular file at `path`. IoError if it cannot be opened or read or is not
// a regular file; InvalidArgumentError if it holds more than `max_bytes` (checked before
// reading anything).
absl::StatusOr<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes);

// ---- Waiting on a word ---------------------------------------------------------------

// Blocks while `word` holds `old`, and returns at once if it does not. May also return
// spuriously: callers re-check the word. Woken by WakeWaiters on the same word. The OS's
// own address wait (Linux: std::atomic::wait, a futex in libstdc++; Windows:
// WaitOnAddress), not std::atomic::wait everywhere: MinGW-w64's GCC 12 libstdc++ has no
// futex and waits on a condition variable whose notify can fall between a waiter's check
// of the word and its sleep (GCC bug 106183), which left thread pools asleep for good
// under Wine (batch_eval_test and speculation_test hung).
void WaitWhileEqual(const std::atomic<uint32_t>& word, uint32_t old);
// Wakes every thread (all = true) or one thread blocked in WaitWhileEqual on `word`.
// Cheap when nobody waits. Call after changing the word.
void WakeWaiters(std::atomic<uint32_t>& word, bool all);

// ---- Time ----------------------------------------------------------------------------

// `t` broken down in the local time zone (thread-safe, unlike std::localtime).
std::tm LocalTime(std::time_t t);

}  // namespace ember

#endif  // EMBER_BASE_PLATFORM_H_
