// UTF-8 helpers for the tokenizers: strict validation (no overlongs, no surrogates, nothing
// above U+10FFFF), decoding one code point, and Utf8Stream, which turns the byte pieces of
// generated tokens into text that never ends in half a character.
#ifndef EMBER_TOKENIZER_UTF8_H_
#define EMBER_TOKENIZER_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace ember {

inline constexpr char32_t kReplacementChar = 0xFFFD;

struct Utf8Char {
  enum class Kind { kValid, kInvalid, kIncomplete };
  Kind kind = Kind::kInvalid;
  char32_t code_point = 0;  // kValid only
  // kValid: bytes of the character. kInvalid: length of the maximal ill-formed prefix
  // (Unicode's "maximal subpart", at least 1), which one U+FFFD replaces. kIncomplete: the
  // bytes present, a valid start of a character that the end of the input cut off.
  size_t length = 0;
};

// Decodes the character at the front of `text` (which must not be empty).
Utf8Char DecodeUtf8(std::string_view text);

// Offset of the first byte that does not start a valid character, or text.size().
size_t FindInvalidUtf8(std::string_view text);
inline bool IsValidUtf8(std::string_view text) { return FindInvalidUtf8(text) == text.size(); }
// InvalidUtf8Error naming `what` and the offset of the first bad byte, or OK.
absl::Status CheckUtf8(std::string_view text, std::string_view what);

// Appends the UTF-8 encoding of `cp` (U+FFFD for surrogates and values above U+10FFFF).
void AppendUtf8(char32_t cp, std::string* out);

// Replaces every ill-formed sequence of `bytes` with U+FFFD (one per maximal subpart, the
// same count Python's errors="replace" and Rust's from_utf8_lossy give).
std::string ToValidUtf8(std::string_view bytes);

// Incremental decoder for streaming generation: feed it the bytes of each token as they are
// produced; it returns only complete characters and holds back a character whose bytes are
// split across tokens. Ill-formed bytes become U+FFFD.
class Utf8Stream {
 public:
  // Appends to `out` all text that is complete after `bytes`.
  void Push(std::string_view bytes, std::string* out);
  std::string Push(std::string_view bytes) {
    std::string out;
    Push(bytes, &out);
    return out;
  }
  // End of stream: a held-back incomplete character becomes U+FFFD.
  void Flush(std::string* out);
  std::string Flush() {
    std::string out;
    Flush(&out);
    return out;
  }
  // Bytes held back, waiting for the rest of their character (0 to 3).
  size_t pending_size() const { return pending_size_; }
  void Reset() { pending_size_ = 0; }

 private:
  char pending_[4] = {};
  size_t pending_size_ = 0;
};

}  // namespace ember

#endif  // EMBER_TOKENIZER_UTF8_H_
