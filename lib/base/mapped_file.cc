#include "lib/base/mapped_file.h"

#include "lib/base/platform.h"

namespace ember {

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  absl::StatusOr<FileMapping> mapping = MapFileReadOnly(path);
  if (!mapping.ok()) return mapping.status();
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->data_ = mapping->data;
  f->size_ = mapping->size;
  f->owns_mapping_ = mapping->data != nullptr;
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
  ReleaseFilePages(p, n);
}

MappedFile::~MappedFile() {
  if (owns_mapping_) UnmapFile(FileMapping{data_, size_});
}

}  // namespace ember
