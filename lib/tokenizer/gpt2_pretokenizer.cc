#include "lib/tokenizer/gpt2_pretokenizer.h"

#include <array>
#include <cstdint>

#include "utf8proc.h"

namespace ember {
namespace {

enum class CharClass : uint8_t { kLetter, kNumber, kSpace, kOther };

CharClass ClassifyCodePoint(char32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) return CharClass::kSpace;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumber;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CharClass::kSpace;
    default:
      return CharClass::kOther;
  }
}

// ASCII dominates real text; classify it from a table filled by the same function.
const std::array<CharClass, 128>& AsciiClasses() {
  static const std::array<CharClass, 128> table = [] {
    std::array<CharClass, 128> t{};
    for (char32_t c = 0; c < 128; ++c) t[c] = ClassifyCodePoint(c);
    return t;
  }();
  return table;
}

struct CharInfo {
  CharClass cls;
  uint32_t length;  // bytes
};

// The character at text[pos] (pos < text.size(); text is valid UTF-8).
inline CharInfo CharAt(std::string_view text, size_t pos) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  if (lead < 0x80) return {AsciiClasses()[lead], 1};
  uint32_t length;
  char32_t cp;
  if (lead < 0xE0) {
    length = 2;
    cp = lead & 0x1F;
  } else if (lead < 0xF0) {
    length = 3;
    cp = lead & 0x0F;
  } else {
    length = 4;
    cp = lead & 0x07;
  }
  // Defensive bound: a truncated sequence (impossible for validated input) ends the text.
  if (pos + length > text.size()) length = static_cast<uint32_t>(text.size() - pos);
  for (uint32_t i = 1; i < length; ++i) cp = (cp << 6) | (static_cast<uint8_t>(text[pos + i]) & 0x3F);
  return {ClassifyCodePoint(cp), length};
}

// Length of the contraction ('s 't 're 've 'm 'll 'd, lower case only) at text[pos] == '\'',
// or 0.
size_t ContractionLength(std::string_view text, size_t pos) {
  if (pos + 1 >= text.size()) return 0;
  const char a = text[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= text.size()) return 0;
  const char b = text[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

}  // namespace

void SplitGpt2Words(std::string_view text, std::vector<std::string_view>* words) {
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    const size_t start = pos;
    if (text[pos] == '\'') {
      if (size_t len = ContractionLength(text, pos); len > 0) {
        words->push_back(text.substr(start, len));
        pos += len;
        continue;
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional U+0020, then a run of one
    // class. A space followed by whitespace (or nothing) falls through to the \s rules.
    size_t run = pos;
    if (text[pos] == ' ' && pos + 1 < n) run = pos + 1;
    const CharInfo first = CharAt(text, run);
    if (first.cls != CharClass::kSpace) {
      size_t end = run + first.length;
      while (end < n) {
        const CharInfo c = CharAt(text, end);
        if (c.cls != first.cls) break;
        end += c.length;
      }
      words->push_back(text.substr(start, end - start));
      pos = end;
      continue;
    }
    // A whitespace run. `\s+(?!\S)` takes all of it at the end of the text, and otherwise
    // all but its last character (which then prefixes the next word if it is a U+0020);
    // a run of one character before non-space falls to `\s+`.
    size_t end = pos;
    size_t last_start = pos;
    while (end < n) {
      const CharInfo c = CharAt(text, end);
      if (c.cls != CharClass::kSpace) break;
      last_start = end;
      end += c.length;
    }
    if (end < n && last_start > start) end = last_start;
    words->push_back(text.substr(start, end - start));
    pos = end;
  }
}

}  // namespace ember
