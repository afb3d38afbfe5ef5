// Parsing untrusted JSON text (safetensors headers, config.json, shard indexes) without
// letting nlohmann::json throw, and without letting hostile nesting exhaust memory.
#ifndef EMBER_FORMAT_JSON_TEXT_H_
#define EMBER_FORMAT_JSON_TEXT_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ember {

// Parses `text` as one JSON value. InvalidModelError naming `source` if the text is not
// valid JSON (UTF-8 included) or nests arrays/objects deeper than `max_depth`: the files
// ember reads are shallow, and a deep "[[[[..." would cost memory per level.
absl::StatusOr<nlohmann::json> ParseJsonText(std::string_view text, std::string_view source,
                                             int max_depth = 16);

// Deepest array/object nesting of `text`, counting brackets outside strings (for a depth
// check before parsing; invalid JSON may give any answer, the parser rejects it after).
int JsonNestingDepth(std::string_view text);

// Short name of a JSON value's type for messages ("string", "number", ...).
const char* JsonTypeName(const nlohmann::json& value);

}  // namespace ember

#endif  // EMBER_FORMAT_JSON_TEXT_H_
