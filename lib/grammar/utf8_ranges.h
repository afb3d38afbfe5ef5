// Code point ranges as UTF-8 byte-range sequences, so that a grammar over characters runs on
// bytes: a token that ends in the middle of a character is then matched like any other.
#ifndef EMBER_GRAMMAR_UTF8_RANGES_H_
#define EMBER_GRAMMAR_UTF8_RANGES_H_

#include <cstdint>
#include <vector>

#include "lib/grammar/grammar_ir.h"

namespace ember::grammar {

struct ByteRange {
  uint8_t lo = 0;
  uint8_t hi = 0;
};

// The encodings of the code points in `ranges` (normalized, no surrogates) as a list of
// sequences of byte ranges: a byte string is the UTF-8 encoding of a code point in `ranges`
// exactly when it matches one of the sequences (each byte inside its range). Sequences are
// pairwise disjoint.
std::vector<std::vector<ByteRange>> Utf8Sequences(const std::vector<CodeRange>& ranges);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_UTF8_RANGES_H_
