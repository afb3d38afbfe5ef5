// Where a model's own chat template comes from: GGUF metadata `tokenizer.chat_template`,
// or in a Hugging Face directory `chat_template.jinja` (newer transformers) or
// tokenizer_config.json's `chat_template` (a string, or a list of {name, template} of which
// "default" is taken).
#ifndef EMBER_CHAT_TEMPLATE_SOURCE_H_
#define EMBER_CHAT_TEMPLATE_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"

namespace ember {

class GgufFile;

// "" when the model has no template. InvalidModelError for a key of the wrong type.
absl::StatusOr<std::string> ChatTemplateFromGguf(const GgufFile& gguf);
absl::StatusOr<std::string> ChatTemplateFromHfDir(const std::string& dir);

}  // namespace ember

#endif  // EMBER_CHAT_TEMPLATE_SOURCE_H_
