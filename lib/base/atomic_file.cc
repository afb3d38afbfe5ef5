#include "lib/base/atomic_file.h"

#include "lib/base/platform.h"

namespace ember {

absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  // The temporary lives beside `path`: a rename is only atomic within one file system.
  absl::StatusOr<std::string> tmp = WriteTemporaryFileBeside(path, bytes);
  if (!tmp.ok()) return tmp.status();
  absl::Status status = RenameReplacing(*tmp, path);
  if (!status.ok()) RemoveFileQuietly(*tmp);
  return status;
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, uint64_t max_bytes) {
  return ReadRegularFile(path, max_bytes);
}

}  // namespace ember
