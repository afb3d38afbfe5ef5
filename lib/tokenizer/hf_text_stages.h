// The text stages a Hugging Face tokenizer.json puts around its model, as SentencePiece-
// style files use them: the normalizer (Prepend, Replace, Unicode normal forms), the
// Metaspace pre-tokenizer and the decoder chain (Replace, ByteFallback, Fuse, Strip,
// Metaspace). Each follows HF `tokenizers` 0.22; other types are UnsupportedError.
#ifndef EMBER_TOKENIZER_HF_TEXT_STAGES_H_
#define EMBER_TOKENIZER_HF_TEXT_STAGES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ember::hf {

// Checked accessors: the fallback when `j` is not an object or the key has another type.
std::string StringOr(const nlohmann::json& j, const char* key, std::string fallback);
bool BoolOr(const nlohmann::json& j, const char* key, bool fallback);
inline std::string TypeOf(const nlohmann::json& j) { return StringOr(j, "type", ""); }

void ReplaceAll(std::string_view from, std::string_view to, std::string* s);

// tokenizer.json "normalizer" (null: identity).
class Normalizer {
 public:
  static absl::StatusOr<Normalizer> FromJson(const nlohmann::json& j, std::string_view source);
  void Apply(std::string* text) const;

 private:
  struct Step {
    enum class Kind { kPrepend, kReplace, kNfc, kNfd, kNfkc, kNfkd };
    Kind kind;
    std::string from, to;  // kPrepend: `to` is the prefix
  };
  absl::Status Parse(const nlohmann::json& j, std::string_view source);
  std::vector<Step> steps_;
};

// tokenizer.json "pre_tokenizer": null (the text is one word) or Metaspace.
class Metaspace {
 public:
  static absl::StatusOr<Metaspace> FromJson(const nlohmann::json& j, std::string_view source);
  // Calls word() for each word of `text`. `first`: the text starts the input (for
  // prepend_scheme "first", which HF checks as "original offset 0").
  void Split(std::string_view text, bool first,
             absl::FunctionRef<void(std::string_view)> word) const;

 private:
  enum class Prepend { kAlways, kFirst, kNever };
  bool enabled_ = false;
  std::string replacement_;
  Prepend prepend_ = Prepend::kAlways;
  bool split_ = false;
};

// tokenizer.json "decoder" (null: tokens joined with spaces, as HF does).
class Decoder {
 public:
  static absl::StatusOr<Decoder> FromJson(const nlohmann::json& j, std::string_view source);
  // HF `decode_chain` over the token strings, then their concatenation.
  std::string Decode(std::vector<std::string> tokens) const;
  // What the chain does to a token on its own: its space-marker replacements.
  void RenderToken(std::string* token) const;

 private:
  struct Step {
    enum class Kind { kReplace, kByteFallback, kFuse, kStrip, kMetaspace };
    Kind kind;
    std::string from, to;  // kReplace; kMetaspace: from = replacement
    std::string strip;     // kStrip: the character removed
    int64_t start = 0, stop = 0;
    bool prepend = true;  // kMetaspace: whether the encoder added a prefix
  };
  absl::Status Parse(const nlohmann::json& j, std::string_view source);
  std::vector<Step> steps_;
};

}  // namespace ember::hf

#endif  // EMBER_TOKENIZER_HF_TEXT_STAGES_H_
