#include "lib/api/status_map.h"

#include <string>

#include "lib/base/errors.h"

namespace ember::api {
namespace {
thread_local std::string t_last_error;
}  // namespace

const char* LastError() { return t_last_error.c_str(); }

ember_status Fail(ember_status code, std::string_view message) {
  try {
    t_last_error.assign(message.data(), message.size());
  } catch (...) {
    // Keeping the old message is better than failing the report itself.
  }
  return code;
}

ember_status Report(const absl::Status& s) {
  if (s.ok()) return EMBER_OK;
  ember_status code = EMBER_ERR_INTERNAL;
  if (IsInvalidToken(s)) {
    code = EMBER_ERR_INVALID_TOKEN;
  } else if (IsInvalidUtf8(s)) {
    code = EMBER_ERR_INVALID_UTF8;
  } else {
    switch (s.code()) {
      case absl::StatusCode::kInvalidArgument: code = EMBER_ERR_INVALID_ARGUMENT; break;
      case absl::StatusCode::kNotFound:
      case absl::StatusCode::kPermissionDenied:
      case absl::StatusCode::kUnavailable: code = EMBER_ERR_IO; break;
      case absl::StatusCode::kDataLoss: code = EMBER_ERR_INVALID_MODEL; break;
      case absl::StatusCode::kUnimplemented: code = EMBER_ERR_UNSUPPORTED; break;
      case absl::StatusCode::kResourceExhausted: code = EMBER_ERR_OUT_OF_MEMORY; break;
      case absl::StatusCode::kOutOfRange: code = EMBER_ERR_CONTEXT_FULL; break;
      case absl::StatusCode::kCancelled: code = EMBER_ERR_CANCELLED; break;
      case absl::StatusCode::kFailedPrecondition: code = EMBER_ERR_BAD_STATE; break;
      default: code = EMBER_ERR_INTERNAL; break;
    }
  }
  return Fail(code, std::string_view(s.message().data(), s.message().size()));
}

}  // namespace ember::api
