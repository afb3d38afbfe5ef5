// libFuzzer target: arbitrary bytes as a GBNF grammar. Compiling must return a status within
// the limits of lib/grammar/limits.h; a grammar that compiles is then driven with bytes and
// masked over a small vocabulary, which must agree with byte-by-byte acceptance.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/grammar/grammar_constraint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The grammar is the input up to the first NUL; what follows is a text to drive it with.
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view text = all.substr(0, nul);
  const std::string_view drive = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1, 64);
  auto program = ember::grammar::CompileConstraint(ember::grammar::GrammarKind::kGbnf, text);
  if (!program.ok()) return 0;
  static const auto trie = ember::grammar::TokenTrie::FromStrings(
      {"", "a", "b", "ab", "\"", "{", "}", "[", "]", ",", ":", " ", "0", "12", "x", "\xC3", "\xA9", "\xC3\xA9", "true"}, 0);
  ember::grammar::GrammarConstraint c(*program, trie);
  ember::grammar::TokenMask mask;
  for (char ch : drive) {
    c.ComputeMask(&mask);
    const int32_t id = 1 + static_cast<uint8_t>(ch) % 18;
    const bool allowed = mask.Test(id);
    if (c.Accept(id).ok() != allowed) std::abort();
  }
  return 0;
}
