// Chooses the tokenizer algorithm from what the model files say.
#include "lib/tokenizer/tokenizer.h"

#include <cstdint>
#include <limits>
#include <memory>

#include "lib/base/errors.h"
#include "lib/base/platform.h"
#include "lib/format/gguf.h"
#include "lib/format/json_text.h"
#include "lib/tokenizer/bpe_tokenizer.h"
#include "lib/tokenizer/spm_tokenizer.h"
#include "nlohmann/json.hpp"

namespace ember {
namespace {

absl::StatusOr<nlohmann::json> ParseJsonFile(const std::string& path) {
  // The seam's reader takes UTF-8 paths on every OS (std::ifstream would read a char path
  // in the ANSI code page on Windows). No size limit, as before.
  EMBER_ASSIGN_OR_RETURN(std::string text, ReadRegularFile(path, std::numeric_limits<uint64_t>::max()));
  return ParseJsonText(text, path);
}

// j[key] if j is an object holding a string there, else "" (never throws).
std::string StringField(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& gguf) {
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string_view> model,
                         gguf.GetString("tokenizer.ggml.model"));
  if (!model.has_value()) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": no tokenizer.ggml.model"));
  }
  if (*model == "llama") return CreateSpmTokenizerFromGguf(gguf);
  if (*model == "gpt2") return CreateGpt2TokenizerFromGguf(gguf);
  return UnsupportedError(
      absl::StrCat(gguf.path(), ": tokenizer.ggml.model '", AV(*model), "' is not supported"));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromHfDir(const std::string& dir) {
  const std::string tokenizer_path = dir + "/tokenizer.json";
  EMBER_ASSIGN_OR_RETURN(nlohmann::json tokenizer, ParseJsonFile(tokenizer_path));
  nlohmann::json config = nlohmann::json::object();
  const std::string config_path = dir + "/tokenizer_config.json";
  if (PathKindOf(config_path) != PathKind::kMissing) {
    EMBER_ASSIGN_OR_RETURN(config, ParseJsonFile(config_path));
  }
  if (!tokenizer.is_object() || !tokenizer.contains("model") || !tokenizer["model"].is_object()) {
    return InvalidModelError(absl::StrCat(tokenizer_path, ": no \"model\" object"));
  }
  const nlohmann::json& model = tokenizer["model"];
  const std::string type = StringField(model, "type");
  if (type != "BPE") {
    return UnsupportedError(
        absl::StrCat(tokenizer_path, ": tokenizer model type '", type, "' is not supported"));
  }
  // GPT-2 family: a ByteLevel pre-tokenizer. SentencePiece-BPE: byte_fallback, with a
  // Metaspace pre-tokenizer or a Prepend/Replace normalizer.
  const nlohmann::json& pre = tokenizer.contains("pre_tokenizer") ? tokenizer["pre_tokenizer"]
                                                                 : nlohmann::json();
  bool byte_level = StringField(pre, "type") == "ByteLevel";
  if (StringField(pre, "type") == "Sequence" &&
      pre.contains("pretokenizers") && pre["pretokenizers"].is_array()) {
    for (const auto& p : pre["pretokenizers"]) {
      if (StringField(p, "type") == "ByteLevel") byte_level = true;
    }
  }
  if (byte_level) return CreateGpt2TokenizerFromHfJson(tokenizer, config, tokenizer_path);
  return CreateSpmTokenizerFromHfJson(tokenizer, config, tokenizer_path);
}

}  // namespace ember
