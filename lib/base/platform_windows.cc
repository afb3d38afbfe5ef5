// The OS seam (lib/base/platform.h) on Windows: the wide-character Win32 file API,
// CreateFileMapping/MapViewOfFile, VirtualAlloc, MoveFileEx, and CPUID/XGETBV. Built
// instead of platform_linux.cc (lib/CMakeLists.txt). Needs Windows 8 or later only for the
// read-ahead hint, which is looked up at run time.
#include "lib/base/platform.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstring>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/platform_x86.h"

namespace ember {
namespace {

// The system's text for a GetLastError() code.
std::string SystemMessage(DWORD code) {
  char* text = nullptr;
  const DWORD n = ::FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
      code, 0, reinterpret_cast<char*>(&text), 0, nullptr);
  std::string out = n > 0 && text != nullptr ? std::string(text, n) : absl::StrCat("Windows error ", code);
  if (text != nullptr) ::LocalFree(text);
  absl::StripTrailingAsciiWhitespace(&out);  // the text ends in CR LF
  return out;
}

// IoError "<path>: <what>: <system message>" for the calling thread's last error.
absl::Status LastError(std::string_view path, std::string_view what) {
  const DWORD code = ::GetLastError();
  return IoError(absl::StrCat(AV(path), ": ", AV(what), ": ", SystemMessage(code)));
}

// UTF-8 (ember's paths) to UTF-16 (the wide Win32 API).
absl::StatusOr<std::wstring> Wide(const std::string& utf8) {
  if (utf8.empty()) return std::wstring();
  const int n = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()),
                                      nullptr, 0);
  if (n <= 0) return IoError(absl::StrCat(utf8, ": not a valid UTF-8 path"));
  std::wstring out(static_cast<size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

// Closes a handle on every path out of a function.
class Handle {
 public:
  explicit Handle(HANDLE h) : h_(h) {}
  ~Handle() {
    if (valid()) ::CloseHandle(h_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  bool valid() const { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }
  HANDLE get() const { return h_; }
  HANDLE release() {
    HANDLE h = h_;
    h_ = nullptr;
    return h;
  }

 private:
  HANDLE h_;
};

// Opens `path` for reading (sharing it fully, as POSIX does) and checks that it is a
// regular file; returns its size. Directories open too (FILE_FLAG_BACKUP_SEMANTICS), so
// that they are reported as "not a regular file" as on Linux rather than "access denied".
absl::StatusOr<uint64_t> OpenRegularFile(const std::string& path, HANDLE* out) {
  absl::StatusOr<std::wstring> wide = Wide(path);
  if (!wide.ok()) return wide.status();
  HANDLE h = ::CreateFileW(wide->c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) return LastError(path, "cannot open");
  Handle file(h);
  BY_HANDLE_FILE_INFORMATION info{};
  if (::GetFileType(h) != FILE_TYPE_DISK) return IoError(absl::StrCat(path, ": not a regular file"));
  if (!::GetFileInformationByHandle(h, &info)) return LastError(path, "cannot stat");
  if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) return IoError(absl::StrCat(path, ": not a regular file"));
  *out = file.release();
  return (static_cast<uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
}

// The whole pages inside [begin, begin + n), or an empty range.
void InnerPages(const void* begin, size_t n, uintptr_t* first, uintptr_t* last) {
  const uintptr_t page = PageSize();
  *first = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  *last = (reinterpret_cast<uintptr_t>(begin) + n) / page * page;
}

// Wine runs Windows programs on Linux, which keeps AMX tile data disabled until a process
// asks (arch_prctl); Wine does not ask, so a tile instruction would fault there even though
// XCR0 has the tile bits. Wine marks itself by this export of its ntdll.
bool RunningUnderWine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

}  // namespace

// ---- CPU features --------------------------------------------------------------------

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
    internal::ReadX86CpuFeatures(&f);
#elif defined(__aarch64__) || defined(_M_ARM64)
    // Windows on ARM64 requires Advanced SIMD; the dot-product extension is a feature flag.
    constexpr DWORD kArmV82DotProduct = 43;  // PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE
    f.arm_neon = true;
    f.arm_dotprod = ::IsProcessorFeaturePresent(kArmV82DotProduct) != 0;
#endif
    return f;
  }();
  return features;
}

bool RequestAmxTileData() {
  // Windows itself enables tile data for every process once XCR0 has bits 17 and 18: there
  // is nothing to ask for.
  static const bool granted = !RunningUnderWine();
  return granted;
}

// ---- Memory --------------------------------------------------------------------------

size_t PageSize() {
  static const size_t page = [] {
    SYSTEM_INFO info{};
    ::GetSystemInfo(&info);
    return static_cast<size_t>(info.dwPageSize);
  }();
  return page;
}

void* AllocatePages(size_t bytes) {
  // Committed pages are zero-filled on first touch, like an anonymous mapping.
  return ::VirtualAlloc(nullptr, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void FreePages(void* p, size_t /*bytes*/) { ::VirtualFree(p, 0, MEM_RELEASE); }

void PopulateForReading(const void* begin, size_t n) {
  if (n == 0) return;
  // PrefetchVirtualMemory is Windows 8+; looked up so that the DLL still loads without it.
  using PrefetchFn = BOOL(WINAPI*)(HANDLE, ULONG_PTR, PWIN32_MEMORY_RANGE_ENTRY, ULONG);
  static const PrefetchFn prefetch = [] {
    HMODULE kernel32 = ::GetModuleHandleW(L"kernel32.dll");
    return kernel32 == nullptr ? nullptr
                               : reinterpret_cast<PrefetchFn>(
                                     reinterpret_cast<void*>(::GetProcAddress(kernel32, "PrefetchVirtualMemory")));
  }();
  if (prefetch == nullptr) return;
  WIN32_MEMORY_RANGE_ENTRY range{const_cast<void*>(begin), n};
  prefetch(::GetCurrentProcess(), 1, &range, 0);  // advice: failure changes nothing
}

// Windows has no hint to map fresh committed pages ahead of writing; they fault in as
// they are first written.
void PopulateForWriting(void* /*begin*/, size_t /*n*/) {}

// Large pages on Windows need the "lock pages in memory" privilege and must be asked for
// at allocation (MEM_LARGE_PAGES); there is no advice for memory already allocated.
void AdviseHugePages(void* /*begin*/, size_t /*n*/) {}

// ---- Files ---------------------------------------------------------------------------

absl::StatusOr<FileMapping> MapFileReadOnly(const std::string& path) {
  HANDLE raw = INVALID_HANDLE_VALUE;
  absl::StatusOr<uint64_t> size = OpenRegularFile(path, &raw);
  if (!size.ok()) return size.status();
  Handle file(raw);
  FileMapping m;
  if (*size == 0) return m;  // CreateFileMapping refuses empty files
  Handle section(::CreateFileMappingW(file.get(), nullptr, PAGE_READONLY, 0, 0, nullptr));
  if (!section.valid()) return LastError(path, "cannot map");
  void* p = ::MapViewOfFile(section.get(), FILE_MAP_READ, 0, 0, 0);
  if (p == nullptr) return LastError(path, "cannot map");
  m.data = static_cast<const uint8_t*>(p);
  m.size = static_cast<size_t>(*size);
  return m;  // the view keeps the section and the file open after both handles close
}

void UnmapFile(const FileMapping& mapping) {
  if (mapping.data != nullptr) ::UnmapViewOfFile(mapping.data);
}

void ReleaseFilePages(const void* begin, size_t n) {
  uintptr_t first, last;
  InnerPages(begin, n, &first, &last);
  if (last <= first) return;
  // VirtualUnlock on pages that are not locked removes them from the working set (and
  // then reports ERROR_NOT_LOCKED); file-backed pages fault back in from the file.
  ::VirtualUnlock(reinterpret_cast<void*>(first), last - first);
}

absl::StatusOr<std::string> WriteTemporaryFileBeside(const std::string& path, std::string_view bytes) {
  // A unique name: this process's id and a counter, tried again if another writer took it.
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  HANDLE h = INVALID_HANDLE_VALUE;
  for (int attempt = 0; attempt < 100 && h == INVALID_HANDLE_VALUE; ++attempt) {
    tmp = absl::StrCat(path, ".tmp.", ::GetCurrentProcessId(), ".", counter.fetch_add(1), ".", ::GetTickCount64());
    absl::StatusOr<std::wstring> wide = Wide(tmp);
    if (!wide.ok()) return wide.status();
    h = ::CreateFileW(wide->c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE && ::GetLastError() != ERROR_FILE_EXISTS) break;
  }
  if (h == INVALID_HANDLE_VALUE) return LastError(tmp, "cannot create a temporary file");
  Handle file(h);
  absl::Status status;
  size_t done = 0;
  while (status.ok() && done < bytes.size()) {
    const DWORD chunk = static_cast<DWORD>(std::min<size_t>(bytes.size() - done, DWORD{1} << 30));
    DWORD written = 0;
    if (!::WriteFile(h, bytes.data() + done, chunk, &written, nullptr) || written == 0) {
      status = LastError(tmp, "write failed");
    } else {
      done += written;
    }
  }
  // Without the flush a crash after the rename could leave an empty file under the new name.
  if (status.ok() && !::FlushFileBuffers(h)) status = LastError(tmp, "flush failed");
  if (!::CloseHandle(file.release()) && status.ok()) status = LastError(tmp, "close failed");
  if (!status.ok()) {
    RemoveFileQuietly(tmp);
    return status;
  }
  return tmp;
}

absl::Status RenameReplacing(const std::string& from, const std::string& to) {
  absl::StatusOr<std::wstring> wide_from = Wide(from);
  if (!wide_from.ok()) return wide_from.status();
  absl::StatusOr<std::wstring> wide_to = Wide(to);
  if (!wide_to.ok()) return wide_to.status();
  // WRITE_THROUGH: the call returns once the rename itself is on the disk.
  if (!::MoveFileExW(wide_from->c_str(), wide_to->c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return LastError(to, absl::StrCat("cannot rename ", from, " over it"));
  }
  return absl::OkStatus();
}

void RemoveFileQuietly(const std::string& path) {
  absl::StatusOr<std::wstring> wide = Wide(path);
  if (wide.ok()) ::DeleteFileW(wide->c_str());
}

PathKind PathKindOf(const std::string& path) {
  absl::StatusOr<std::wstring> wide = Wide(path);
  if (!wide.ok()) return PathKind::kMissing;
  // GetFileAttributesW describes a symbolic link itself, not what it points to; so a
  // reparse point is opened (CreateFileW follows links) and its target's attributes read.
  const DWORD attributes = ::GetFileAttributesW(wide->c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES) return PathKind::kMissing;
  if (attributes & FILE_ATTRIBUTE_REPARSE_POINT) {
    HANDLE h = ::CreateFileW(wide->c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (h == INVALID_HANDLE_VALUE) return PathKind::kMissing;
    Handle target(h);
    BY_HANDLE_FILE_INFORMATION info{};
    if (!::GetFileInformationByHandle(h, &info)) return PathKind::kOther;
    return (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? PathKind::kDirectory : PathKind::kRegularFile;
  }
  if (attributes & FILE_ATTRIBUTE_DIRECTORY) return PathKind::kDirectory;
  if (attributes & FILE_ATTRIBUTE_DEVICE) return PathKind::kOther;
  return PathKind::kRegularFile;
}

std::FILE* CreateFileForWriting(const std::string& path) {
  absl::StatusOr<std::wstring> wide = Wide(path);
  if (!wide.ok()) {
    errno = EINVAL;
    return nullptr;
  }
  return ::_wfopen(wide->c_str(), L"wb");
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes) {
  HANDLE raw = INVALID_HANDLE_VALUE;
  absl::StatusOr<uint64_t> size = OpenRegularFile(path, &raw);
  if (!size.ok()) return size.status();
  Handle file(raw);
  if (*size > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", *size, " bytes, more than the ", max_bytes, " expected"));
  }
  std::string out(static_cast<size_t>(*size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const DWORD chunk = static_cast<DWORD>(std::min<size_t>(out.size() - done, DWORD{1} << 30));
    DWORD n = 0;
    if (!::ReadFile(file.get(), out.data() + done, chunk, &n, nullptr)) return LastError(path, "read failed");
    if (n == 0) break;  // the file shrank since it was opened
    done += n;
  }
  out.resize(done);
  return out;
}

// ---- Waiting on a word ---------------------------------------------------------------

// WaitOnAddress (Windows 8 and later, synchronization.lib): the futex of Windows. A wake
// with nobody waiting stays in user mode.
void WaitWhileEqual(const std::atomic<uint32_t>& word, uint32_t old) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free);
  // WaitOnAddress itself returns at once when the word no longer holds `old`.
  ::WaitOnAddress(const_cast<std::atomic<uint32_t>*>(&word), &old, sizeof(old), INFINITE);
}

void WakeWaiters(std::atomic<uint32_t>& word, bool all) {
  if (all) {
    ::WakeByAddressAll(&word);
  } else {
    ::WakeByAddressSingle(&word);
  }
}

// ---- Time ----------------------------------------------------------------------------

std::tm LocalTime(std::time_t t) {
  std::tm local{};
  ::localtime_s(&local, &t);
  return local;
}

}  // namespace ember
