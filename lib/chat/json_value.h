// JSON in and out of template values: the render context arrives as JSON (nlohmann), and
// the `tojson` filter is Hugging Face's, i.e. Python's json.dumps(ensure_ascii=False, ...)
// with its exact spacing, escapes and float spelling.
#ifndef EMBER_CHAT_JSON_VALUE_H_
#define EMBER_CHAT_JSON_VALUE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "lib/chat/value.h"
#include "nlohmann/json.hpp"

namespace ember::chat {

// Objects become dicts (in document order), arrays lists, numbers int or float.
// InvalidArgumentError if nesting exceeds kMaxValueDepth.
absl::StatusOr<Value> ValueFromJson(const nlohmann::ordered_json& json);

struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // Python's indent (an int becomes that many spaces)
  std::string item_separator = ", ";  // Python's defaults; ",", when indent is set
  std::string key_separator = ": ";
  bool sort_keys = false;
  // The text is an error past this size (shared sub-values can make it astronomical).
  size_t max_bytes = size_t{64} << 20;
};

// json.dumps(value, ...). InvalidArgumentError for values JSON cannot hold (Undefined,
// macros, namespaces) and for dict keys that are not str/int/float/bool/None.
absl::StatusOr<std::string> PyJsonDumps(const Value& value, const JsonDumpOptions& options);

}  // namespace ember::chat

#endif  // EMBER_CHAT_JSON_VALUE_H_
