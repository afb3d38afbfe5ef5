// libFuzzer target: arbitrary bytes as a JSON Schema. Conversion must return a status (an
// unsupported keyword, a bad $ref, a limit) or a grammar; hostile schemas (deep nesting,
// recursive $ref, huge counts) must stay within the limits. A compiled grammar is walked over
// a few JSON texts and masked over a small vocabulary.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/grammar/grammar_constraint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto program = ember::grammar::CompileConstraint(ember::grammar::GrammarKind::kJsonSchema, text);
  if (!program.ok()) return 0;
  static const auto trie = ember::grammar::TokenTrie::FromStrings(
      {"", "{", "}", "[", "]", "\"", "\":", ",", "a", "1", "-", ".", "0", "e", "true", "null", " ", "\"a\""}, 0);
  ember::grammar::GrammarConstraint c(*program, trie);
  ember::grammar::TokenMask mask;
  for (int step = 0; step < 24; ++step) {
    c.ComputeMask(&mask);
    int32_t pick = -1;
    for (int32_t id = 1; id < mask.n; ++id) {
      if (mask.Test((id * 7 + step) % (mask.n - 1) + 1)) {
        pick = (id * 7 + step) % (mask.n - 1) + 1;
        break;
      }
    }
    if (pick < 0) break;
    if (!c.Accept(pick).ok()) std::abort();
  }
  for (std::string_view doc : {"{}", "[]", "\"a\"", "1", "null", "{\"a\":[1,2]}"}) {
    ember::grammar::GrammarConstraint d(*program, trie);
    (void)d.AcceptBytes(doc);
  }
  return 0;
}
