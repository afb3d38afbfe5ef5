// GPT-2's reversible byte <-> symbol map. Byte-level BPE vocabularies spell every byte as a
// printable code point so that token text never holds raw control bytes or spaces: the 188
// printable Latin-1 bytes stand for themselves, the other 68 (0x00-0x20, 0x7F-0xA0, 0xAD)
// become U+0100.. in byte order ("Ġ" U+0120 is the space, "Ċ" U+010A the newline).
#ifndef EMBER_TOKENIZER_BYTE_LEVEL_H_
#define EMBER_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ember {

// The code point that spells byte `b` in token text.
char32_t ByteToSymbol(uint8_t b);
// The byte that symbol `cp` spells, or -1 if cp is none of the 256 symbols.
int SymbolToByte(char32_t cp);

// Token text -> bytes. Returns false (leaving `out` unspecified) if `text` is not valid
// UTF-8 or holds a code point that is not a byte symbol.
bool SymbolsToBytes(std::string_view text, std::string* out);

}  // namespace ember

#endif  // EMBER_TOKENIZER_BYTE_LEVEL_H_
