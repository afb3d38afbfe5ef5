#include "lib/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

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

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  // A unique name in the same directory: rename() is only atomic within one file system,
  // and two writers of the same path must not share a temporary.
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
  // mkstemp creates 0600; a state file is an ordinary user file.
  if (status.ok() && ::fchmod(fd.get(), 0644) != 0) status = Errno(tmp, "chmod failed");
  // Without fsync a crash after the rename could leave an empty file under the new name.
  if (status.ok() && ::fsync(fd.get()) != 0) status = Errno(tmp, "fsync failed");
  if (::close(fd.release()) != 0 && status.ok()) status = Errno(tmp, "close failed");
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = Errno(path, absl::StrCat("cannot rename ", tmp, " over it"));
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno(path, "cannot open");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Errno(path, "cannot stat");
  if (!S_ISREG(st.st_mode)) return IoError(absl::StrCat(path, ": not a regular file"));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", size, " bytes, more than the ", max_bytes, " expected"));
  }
  std::string out(static_cast<size_t>(size), '\0');
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

}  // namespace ember
