// Text <-> token ids. One interface, several algorithms: SentencePiece-style BPE
// (Llama 2, Mistral, stories260K) and GPT-2 byte-level BPE (Phi-2), each loadable from GGUF
// metadata (tokenizer.ggml.*) or from a Hugging Face tokenizer.json.
#ifndef EMBER_TOKENIZER_TOKENIZER_H_
#define EMBER_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ember {

class GgufFile;

// GGUF token types (tokenizer.ggml.token_type values).
enum class TokenType : int32_t {
  kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6,
};

struct EncodeOptions {
  bool add_bos = false;       // prepend BOS (callers resolve the model default first)
  bool parse_special = false; // text that spells a control token becomes that token
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Encodes UTF-8 text. InvalidUtf8Error for invalid UTF-8.
  virtual absl::Status Encode(std::string_view text, const EncodeOptions& options,
                              std::vector<int32_t>* ids) const = 0;

  // The bytes token `id` contributes when it follows other text, as llama.cpp renders
  // continuation text: SentencePiece's "▁" becomes " ", byte tokens <0xNN> become that
  // byte, GPT-2 byte-level symbols map back to bytes, control tokens render as their text
  // unless skip_special (then ""), UNUSED tokens (Phi-2's [PAD...]) render as "".
  // InvalidTokenError if id is not in [0, n_tokens()).
  virtual absl::Status TokenBytes(int32_t id, bool skip_special, std::string* out) const = 0;

  // Decodes a whole sequence the way the tokenizer's reference does (llama.cpp for GGUF
  // vocabularies, the tokenizer.json decoder chain for HF ones, e.g. stripping the first
  // leading space for SentencePiece). May return invalid UTF-8 bytes if ids split a char.
  virtual absl::Status Decode(absl::Span<const int32_t> ids, bool skip_special,
                              std::string* out) const = 0;

  virtual int32_t n_tokens() const = 0;
  virtual int32_t bos() const = 0;  // -1 if none
  virtual int32_t eos() const = 0;  // -1 if none
  virtual bool add_bos_by_default() const = 0;
  // Whether id is a control token (BOS/EOS/...), which generation treats as special.
  virtual bool IsControl(int32_t id) const = 0;
  // Ids [0, n_sampleable()) are real tokens a sampler may pick. Vocabularies padded with
  // UNUSED entries at the end (Phi-2's GGUF: [PAD50295]..) override this to exclude them.
  virtual int32_t n_sampleable() const { return n_tokens(); }
};

// From GGUF metadata: tokenizer.ggml.model "llama" (SentencePiece) or "gpt2".
// UnsupportedError for other models; InvalidModelError for inconsistent arrays
// (lengths differ, ids out of range, absurd sizes).
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& gguf);

// From a Hugging Face directory: tokenizer.json (+ tokenizer_config.json if present).
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromHfDir(const std::string& dir);

}  // namespace ember

#endif  // EMBER_TOKENIZER_TOKENIZER_H_
