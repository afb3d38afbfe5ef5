// Whole-file writes that never leave a half-written file behind, and bounded whole-file
// reads, for small state files the host names (session state).
#ifndef EMBER_BASE_ATOMIC_FILE_H_
#define EMBER_BASE_ATOMIC_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ember {

// Writes `bytes` to a fresh temporary file beside `path`, flushes it to disk and renames it
// over `path`: readers see either the old file or the complete new one, and a failure at
// any point (IoError naming the step) leaves the old file as it was and no temporary.
absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// Reads the whole regular file at `path`. IoError if it cannot be read;
// InvalidArgumentError if it holds more than `max_bytes` (checked before reading).
absl::StatusOr<std::string> ReadFileBounded(const std::string& path, uint64_t max_bytes);

}  // namespace ember

#endif  // EMBER_BASE_ATOMIC_FILE_H_
