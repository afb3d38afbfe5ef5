#include "lib/chat/template_source.h"

#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/mapped_file.h"
#include "lib/base/platform.h"
#include "lib/format/gguf.h"
#include "lib/format/json_text.h"

namespace ember {

namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  return std::string(reinterpret_cast<const char*>(file->data()), file->size());
}

}  // namespace

absl::StatusOr<std::string> ChatTemplateFromGguf(const GgufFile& gguf) {
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string_view> t, gguf.GetString("tokenizer.chat_template"));
  return t ? std::string(*t) : std::string();
}

absl::StatusOr<std::string> ChatTemplateFromHfDir(const std::string& dir) {
  const std::string jinja_path = dir + "/chat_template.jinja";
  if (PathKindOf(jinja_path) == PathKind::kRegularFile) return ReadWholeFile(jinja_path);
  const std::string config_path = dir + "/tokenizer_config.json";
  if (PathKindOf(config_path) != PathKind::kRegularFile) return std::string();
  EMBER_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(config_path));
  EMBER_ASSIGN_OR_RETURN(nlohmann::json config, ParseJsonText(text, config_path));
  if (!config.is_object() || !config.contains("chat_template")) return std::string();
  const nlohmann::json& t = config["chat_template"];
  if (t.is_null()) return std::string();
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {
    for (const nlohmann::json& named : t) {
      if (named.is_object() && named.contains("name") && named["name"] == "default" && named.contains("template") &&
          named["template"].is_string()) {
        return named["template"].get<std::string>();
      }
    }
    return InvalidModelError(absl::StrCat(config_path, ": chat_template lists no template named \"default\""));
  }
  return InvalidModelError(absl::StrCat(config_path, ": chat_template is a ", JsonTypeName(t),
                                        ", not a string or a list of named templates"));
}

}  // namespace ember
