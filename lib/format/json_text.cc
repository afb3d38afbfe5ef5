#include "lib/format/json_text.h"

#include "lib/base/errors.h"

namespace ember {

int JsonNestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return deepest;
}

absl::StatusOr<nlohmann::json> ParseJsonText(std::string_view text, std::string_view source,
                                             int max_depth) {
  // nlohmann stops at a NUL as if the input ended there, which would silently accept any
  // bytes after it. JSON text never contains a raw NUL.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return InvalidModelError(absl::StrCat(AV(source), ": not valid JSON: NUL byte at offset ", nul));
  }
  int depth = JsonNestingDepth(text);
  if (depth > max_depth) {
    return InvalidModelError(absl::StrCat(AV(source), ": JSON nests ", depth,
                                          " levels deep, more than the ", max_depth, " allowed"));
  }
  // allow_exceptions = false reports syntax errors as a discarded value; the catch is for
  // anything else the library might still throw (it must not escape into ember).
  try {
    nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (value.is_discarded()) {
      return InvalidModelError(absl::StrCat(AV(source), ": not valid JSON"));
    }
    return value;
  } catch (const nlohmann::json::exception& e) {
    return InvalidModelError(absl::StrCat(AV(source), ": not valid JSON: ", e.what()));
  }
}

const char* JsonTypeName(const nlohmann::json& value) { return value.type_name(); }

}  // namespace ember
