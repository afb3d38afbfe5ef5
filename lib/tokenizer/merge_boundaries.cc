#include "lib/tokenizer/merge_boundaries.h"

#include "lib/tokenizer/utf8.h"

namespace ember {

MergeBoundaries::MergeBoundaries(const std::vector<std::string_view>& tokens) {
  for (std::string_view token : tokens) {
    if (token.empty()) continue;
    size_t length = 0;
    // Token texts are not validated UTF-8; an invalid byte counts as a character of its own
    // (code point 0x110000 + byte), which text (valid UTF-8) never contains.
    const auto at = [&](size_t pos) -> char32_t {
      const Utf8Char c = DecodeUtf8(token.substr(pos));
      if (c.kind == Utf8Char::Kind::kValid) {
        length = c.length;
        return c.code_point;
      }
      length = 1;
      return 0x110000 + static_cast<uint8_t>(token[pos]);
    };
    char32_t prev = at(0);
    for (size_t pos = length; pos < token.size(); pos += length) {
      const char32_t cur = at(pos);
      Add(prev, cur);
      prev = cur;
    }
  }
}

void MergeBoundaries::Add(char32_t a, char32_t b) {
  const int ia = DenseIndex(a), ib = DenseIndex(b);
  if (ia >= 0 && ib >= 0) {
    dense_[ia * kDense + ib] = true;
  } else {
    sparse_.insert(PairKey(a, b));
  }
}

char32_t MergeBoundaries::CodePointAt(std::string_view text, size_t pos, size_t* length) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  if (lead < 0x80) {
    *length = 1;
    return lead;
  }
  const Utf8Char c = DecodeUtf8(text.substr(pos));
  *length = c.length;
  return c.kind == Utf8Char::Kind::kValid ? c.code_point : 0x110000 + lead;
}

}  // namespace ember
