#include "lib/base/errors.h"

#include "absl/strings/cord.h"

namespace ember {
namespace {

absl::Status WithEmberCode(absl::Status s, absl::string_view code) {
  s.SetPayload(kEmberCodePayload, absl::Cord(code));
  return s;
}

bool HasEmberCode(const absl::Status& s, absl::string_view code) {
  auto payload = s.GetPayload(kEmberCodePayload);
  return payload.has_value() && *payload == code;
}

}  // namespace

absl::Status IoError(absl::string_view m) { return absl::UnavailableError(m); }
absl::Status InvalidModelError(absl::string_view m) { return absl::DataLossError(m); }
absl::Status UnsupportedError(absl::string_view m) { return absl::UnimplementedError(m); }
absl::Status OutOfMemoryError(absl::string_view m) { return absl::ResourceExhaustedError(m); }
absl::Status ContextFullError(absl::string_view m) { return absl::OutOfRangeError(m); }
absl::Status CancelledError(absl::string_view m) { return absl::CancelledError(m); }
absl::Status InvalidTokenError(absl::string_view m) {
  return WithEmberCode(absl::InvalidArgumentError(m), "invalid_token");
}
absl::Status InvalidUtf8Error(absl::string_view m) {
  return WithEmberCode(absl::InvalidArgumentError(m), "invalid_utf8");
}
bool IsInvalidToken(const absl::Status& s) { return HasEmberCode(s, "invalid_token"); }
bool IsInvalidUtf8(const absl::Status& s) { return HasEmberCode(s, "invalid_utf8"); }

absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  if (s.ok()) return s;
  absl::Status out(s.code(), absl::StrCat(context, ": ", s.message()));
  s.ForEachPayload([&](absl::string_view key, const absl::Cord& value) { out.SetPayload(key, value); });
  return out;
}

}  // namespace ember
