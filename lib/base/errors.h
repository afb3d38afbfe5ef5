// How failures travel inside ember: as absl::Status with a canonical code, plus a payload
// for the two ember codes absl has no canonical equivalent for. lib/api maps them to
// ember_status values at the C boundary (ToEmberStatus in lib/api/status_map.cc).
//
//   ember code                  absl code               helper
//   EMBER_ERR_INVALID_ARGUMENT  kInvalidArgument        absl::InvalidArgumentError
//   EMBER_ERR_IO                kNotFound/kUnavailable  IoError
//   EMBER_ERR_INVALID_MODEL     kDataLoss               InvalidModelError
//   EMBER_ERR_UNSUPPORTED       kUnimplemented          UnsupportedError
//   EMBER_ERR_OUT_OF_MEMORY     kResourceExhausted      OutOfMemoryError
//   EMBER_ERR_CONTEXT_FULL      kOutOfRange             ContextFullError
//   EMBER_ERR_CANCELLED         kCancelled              CancelledError
//   EMBER_ERR_INVALID_TOKEN     kInvalidArgument+payload InvalidTokenError
//   EMBER_ERR_INVALID_UTF8      kInvalidArgument+payload InvalidUtf8Error
//   EMBER_ERR_BAD_STATE         kFailedPrecondition     absl::FailedPreconditionError
//   EMBER_ERR_INTERNAL          anything else           absl::InternalError
#ifndef EMBER_BASE_ERRORS_H_
#define EMBER_BASE_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ember {

// Debian's Abseil is built without std::string_view aliasing: absl::string_view is its own
// type. AV() bridges a std::string_view into absl APIs (StrCat, Status, ...).
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Payload key marking the finer-grained ember codes.
inline constexpr absl::string_view kEmberCodePayload = "ember.status";

absl::Status IoError(absl::string_view message);
absl::Status InvalidModelError(absl::string_view message);
absl::Status UnsupportedError(absl::string_view message);
absl::Status OutOfMemoryError(absl::string_view message);
absl::Status ContextFullError(absl::string_view message);
absl::Status CancelledError(absl::string_view message);
absl::Status InvalidTokenError(absl::string_view message);
absl::Status InvalidUtf8Error(absl::string_view message);

bool IsInvalidToken(const absl::Status& s);
bool IsInvalidUtf8(const absl::Status& s);

// Prefixes the message of a failed status with context ("tiny.gguf: tensor 'x': ..."),
// keeping its code and payloads. OK stays OK.
absl::Status Annotate(const absl::Status& s, absl::string_view context);

}  // namespace ember

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define EMBER_RETURN_IF_ERROR(expr)                  \
  do {                                               \
    ::absl::Status ember_status_tmp_ = (expr);       \
    if (!ember_status_tmp_.ok()) return ember_status_tmp_; \
  } while (0)

#define EMBER_CONCAT_INNER_(a, b) a##b
#define EMBER_CONCAT_(a, b) EMBER_CONCAT_INNER_(a, b)
// Declares `lhs` from an absl::StatusOr<T> expression, returning its status on failure.
#define EMBER_ASSIGN_OR_RETURN(lhs, expr) \
  EMBER_ASSIGN_OR_RETURN_IMPL_(EMBER_CONCAT_(ember_statusor_, __LINE__), lhs, expr)
#define EMBER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // EMBER_BASE_ERRORS_H_
