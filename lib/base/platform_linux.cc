// The OS seam (lib/base/platform.h) on Linux: POSIX files and mmap, madvise hints,
// arch_prctl for AMX, getauxval for ARM64 features. Built instead of platform_windows.cc
// (lib/CMakeLists.txt).
#include "lib/base/platform.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/platform_x86.h"

namespace ember {
namespace {

absl::Status Errno(std::string_view path, std::string_view what) {
  return IoError(absl::StrCat(AV(path), ": ", AV(what), ": ", std::strerror(errno)));
}

// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// `fd`, just opened from `path` for reading (-1 if that failed), checked to be a regular
// file; returns its size.
absl::StatusOr<uint64_t> RegularFileSize(const std::string& path, const Fd& fd) {
  if (fd.get() < 0) return Errno(path, "cannot open");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Errno(path, "cannot stat");
  if (!S_ISREG(st.st_mode)) return IoError(absl::StrCat(path, ": not a regular file"));
  return static_cast<uint64_t>(st.st_size);
}

// Linux values, for headers older than the kernel feature (advice only: an older kernel
// answers EINVAL and the pages fault in as usual).
constexpr int kPopulateRead = 22;   // MADV_POPULATE_READ, Linux 5.14
constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE, Linux 5.14

// Advises the pages that overlap [begin, begin + n).
void AdviseCoveringPages(const void* begin, size_t n, int advice) {
  if (n == 0) return;
  const uintptr_t page = PageSize();
  const uintptr_t first = reinterpret_cast<uintptr_t>(begin) / page * page;
  const uintptr_t last = reinterpret_cast<uintptr_t>(begin) + n;
  ::madvise(reinterpret_cast<void*>(first), last - first, advice);
}

}  // namespace

// ---- CPU features --------------------------------------------------------------------

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__)
    internal::ReadX86CpuFeatures(&f);
#elif defined(__aarch64__)
    // AT_HWCAP bits of arch/arm64/include/uapi/asm/hwcap.h (spelled out for old headers).
    constexpr unsigned long kHwcapAsimd = 1ul << 1, kHwcapAsimdDp = 1ul << 20;
    const unsigned long hwcap = ::getauxval(AT_HWCAP);
    f.arm_neon = (hwcap & kHwcapAsimd) != 0;
    f.arm_dotprod = f.arm_neon && (hwcap & kHwcapAsimdDp) != 0;
#endif
    return f;
  }();
  return features;
}

bool RequestAmxTileData() {
  static const bool granted = [] {
#if defined(__x86_64__)
    // Linux 5.16+ keeps tile data disabled (XFD) until the process asks for it; the kernel
    // grants it unless the signal stack limit forbids the larger state.
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return ::syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
  }();
  return granted;
}

// ---- Memory --------------------------------------------------------------------------

size_t PageSize() {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

void* AllocatePages(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void FreePages(void* p, size_t bytes) { ::munmap(p, bytes); }

void PopulateForReading(const void* begin, size_t n) { AdviseCoveringPages(begin, n, kPopulateRead); }

void PopulateForWriting(void* begin, size_t n) { AdviseCoveringPages(begin, n, kPopulateWrite); }

void AdviseHugePages(void* begin, size_t n) { AdviseCoveringPages(begin, n, MADV_HUGEPAGE); }

// ---- Files ---------------------------------------------------------------------------

absl::StatusOr<FileMapping> MapFileReadOnly(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  absl::StatusOr<uint64_t> size = RegularFileSize(path, fd);
  if (!size.ok()) return size.status();
  FileMapping m;
  m.size = static_cast<size_t>(*size);
  if (m.size == 0) return m;
  void* p = ::mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) return Errno(path, "cannot map");
  m.data = static_cast<const uint8_t*>(p);
  return m;  // the mapping keeps the file alive once fd closes
}

void UnmapFile(const FileMapping& mapping) {
  if (mapping.data != nullptr) ::munmap(const_cast<uint8_t*>(mapping.data), mapping.size);
}

void ReleaseFilePages(const void* begin, size_t n) {
  const uintptr_t page = PageSize();
  const uintptr_t first = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  const uintptr_t last = (reinterpret_cast<uintptr_t>(begin) + n) / page * page;
  if (last <= first) return;
  // Advice only: a failure leaves the pages resident, which is harmless. The mapping is
  // private and read-only, so dropped pages come back from the file unchanged.
  ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

absl::StatusOr<std::string> WriteTemporaryFileBeside(const std::string& path, std::string_view bytes) {
  // A unique name: two writers of the same path must not share a temporary.
  std::string tmp = path + ".tmp.XXXXXX";
  Fd fd(::mkstemp(tmp.data()));
  if (fd.get() < 0) return Errno(tmp, "cannot create a temporary file");
  absl::Status status;
  size_t done = 0;
  while (status.ok() && done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) status = Errno(tmp, "write failed");
    else done += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; the result is an ordinary user file.
  if (status.ok() && ::fchmod(fd.get(), 0644) != 0) status = Errno(tmp, "chmod failed");
  // Without fsync a crash after a rename could leave an empty file under the new name.
  if (status.ok() && ::fsync(fd.get()) != 0) status = Errno(tmp, "fsync failed");
  if (::close(fd.release()) != 0 && status.ok()) status = Errno(tmp, "close failed");
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return tmp;
}

absl::Status RenameReplacing(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return Errno(to, absl::StrCat("cannot rename ", from, " over it"));
  }
  return absl::OkStatus();
}

void RemoveFileQuietly(const std::string& path) { ::unlink(path.c_str()); }

PathKind PathKindOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return PathKind::kMissing;
  if (S_ISREG(st.st_mode)) return PathKind::kRegularFile;
  if (S_ISDIR(st.st_mode)) return PathKind::kDirectory;
  return PathKind::kOther;
}

std::FILE* CreateFileForWriting(const std::string& path) { return std::fopen(path.c_str(), "wb"); }

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  absl::StatusOr<uint64_t> size = RegularFileSize(path, fd);
  if (!size.ok()) return size.status();
  if (*size > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", *size, " bytes, more than the ", max_bytes, " expected"));
  }
  std::string out(static_cast<size_t>(*size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(path, "read failed");
    if (n == 0) break;  // the file shrank since fstat
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

// ---- Waiting on a word ---------------------------------------------------------------

// libstdc++ waits on a 32-bit atomic with a futex and skips the wake system call when no
// thread sleeps, which is all this needs.
void WaitWhileEqual(const std::atomic<uint32_t>& word, uint32_t old) { word.wait(old, std::memory_order_acquire); }

void WakeWaiters(std::atomic<uint32_t>& word, bool all) {
  if (all) {
    word.notify_all();
  } else {
    word.notify_one();
  }
}

// ---- Time ----------------------------------------------------------------------------

std::tm LocalTime(std::time_t t) {
  std::tm local{};
  ::localtime_r(&t, &local);
  return local;
}

}  // namespace ember
