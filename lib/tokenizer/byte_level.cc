#include "lib/tokenizer/byte_level.h"

#include <array>

#include "lib/tokenizer/utf8.h"

namespace ember {
namespace {

bool IsPrintableLatin1(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteMaps {
  std::array<char32_t, 256> to_symbol{};
  // Symbols live in U+0021..U+0143, so a small dense inverse table covers them all.
  static constexpr char32_t kMaxSymbol = 0x100 + 68;
  std::array<int16_t, kMaxSymbol> to_byte{};

  ByteMaps() {
    to_byte.fill(-1);
    char32_t next_shifted = 0x100;
    for (int b = 0; b < 256; ++b) {
      char32_t cp = IsPrintableLatin1(b) ? static_cast<char32_t>(b) : next_shifted++;
      to_symbol[b] = cp;
      to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteMaps& Maps() {
  static const ByteMaps* maps = new ByteMaps();
  return *maps;
}

}  // namespace

char32_t ByteToSymbol(uint8_t b) { return Maps().to_symbol[b]; }

int SymbolToByte(char32_t cp) {
  return cp < ByteMaps::kMaxSymbol ? Maps().to_byte[cp] : -1;
}

bool SymbolsToBytes(std::string_view text, std::string* out) {
  out->clear();
  while (!text.empty()) {
    Utf8Char c = DecodeUtf8(text);
    if (c.kind != Utf8Char::Kind::kValid) return false;
    int b = SymbolToByte(c.code_point);
    if (b < 0) return false;
    out->push_back(static_cast<char>(b));
    text.remove_prefix(c.length);
  }
  return true;
}

}  // namespace ember
