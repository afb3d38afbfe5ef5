#include "lib/base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/base/errors.h"

namespace ember {

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError(absl::StrCat(path, ": cannot stat: ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError(absl::StrCat(path, ": not a regular file"));
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return IoError(absl::StrCat(path, ": cannot map: ", std::strerror(err)));
    }
    f->data_ = static_cast<const uint8_t*>(p);
    f->owns_mapping_ = true;
  }
  ::close(fd);  // the mapping keeps the file alive
  return f;
}

std::unique_ptr<MappedFile> MappedFile::FromBuffer(absl::Span<const uint8_t> bytes,
                                                   std::string name) {
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->data_ = bytes.data();
  f->size_ = bytes.size();
  f->path_ = std::move(name);
  return f;
}

void MappedFile::ReleasePages(const void* begin, size_t n) const {
  const auto* p = static_cast<const uint8_t*>(begin);
  if (!owns_mapping_ || p < data_ || n > size_ || p - data_ > static_cast<ptrdiff_t>(size_ - n)) return;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t last = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (last <= first) return;
  // Advice only: a failure leaves the pages resident, which is harmless.
  ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (owns_mapping_ && data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace ember
