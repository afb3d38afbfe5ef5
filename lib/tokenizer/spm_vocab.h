// The token table of a SentencePiece-style vocabulary (GGUF tokenizer.ggml.* arrays or a
// tokenizer.json model vocab plus its added tokens): piece text, type and score per id, a
// text -> id index and the byte-fallback tokens <0x00>..<0xFF>.
#ifndef EMBER_TOKENIZER_SPM_VOCAB_H_
#define EMBER_TOKENIZER_SPM_VOCAB_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/tokenizer/tokenizer.h"

namespace ember {

// SentencePiece writes a space as U+2581 LOWER ONE EIGHTH BLOCK.
inline constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";

// Upper bound on vocabulary size: far above any real model (Gemma has 256K), low enough
// that a corrupt count cannot make us allocate gigabytes.
inline constexpr int32_t kMaxVocabSize = 1 << 22;

// "<0xNN>" -> NN, anything else -> -1.
int ParseByteToken(std::string_view piece);

// Replaces every "▁" with " ".
std::string UnescapeSpaces(std::string_view piece);

class SpmVocab {
 public:
  struct Entry {
    std::string piece;
    float score = 0.0f;
    TokenType type = TokenType::kNormal;
  };

  // Entry i is token i. InvalidModelError (naming `source`) for an empty or oversized
  // table, or a BYTE token whose text is not <0xNN>. When two tokens share a text, lookups
  // find the later one (as llama.cpp does).
  static absl::StatusOr<SpmVocab> Create(std::vector<Entry> entries, std::string_view source);

  SpmVocab(SpmVocab&&) = default;
  SpmVocab& operator=(SpmVocab&&) = default;
  SpmVocab(const SpmVocab&) = delete;  // index_ points into entries_
  SpmVocab& operator=(const SpmVocab&) = delete;

  int32_t size() const { return static_cast<int32_t>(entries_.size()); }
  bool Contains(int32_t id) const { return id >= 0 && id < size(); }
  const std::string& piece(int32_t id) const { return entries_[id].piece; }
  float score(int32_t id) const { return entries_[id].score; }
  TokenType type(int32_t id) const { return entries_[id].type; }
  // Byte value of a BYTE token, -1 for other types.
  int byte_value(int32_t id) const { return byte_values_[id]; }

  // Id of the token spelled `text`, -1 if none.
  int32_t Find(std::string_view text) const {
    const auto it = index_.find(absl::string_view(text.data(), text.size()));
    return it == index_.end() ? -1 : it->second;
  }
  // Id of the token <0xNN> for byte b, -1 if the vocabulary has none.
  int32_t byte_token(uint8_t b) const { return byte_tokens_[b]; }

 private:
  SpmVocab() = default;

  std::vector<Entry> entries_;
  std::vector<int16_t> byte_values_;
  // Views into entries_[i].piece: std::vector moves keep the strings where they are.
  absl::flat_hash_map<absl::string_view, int32_t> index_;
  std::array<int32_t, 256> byte_tokens_{};
};

}  // namespace ember

#endif  // EMBER_TOKENIZER_SPM_VOCAB_H_
