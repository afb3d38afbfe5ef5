// Where a BPE merge can never cross. Every symbol the merge loop builds is a vocabulary
// token, so a symbol covering the boundary between two adjacent characters a|b must spell
// "ab" somewhere inside. If no token contains that character pair, the two sides of the
// boundary are tokenized independently: cutting the text there gives exactly the same ids,
// and the pieces (mostly words) can be cached. Llama 2's 32,000 tokens contain only ~3,500
// distinct pairs, and none has "▁" after another character, so text splits at every word.
#ifndef EMBER_TOKENIZER_MERGE_BOUNDARIES_H_
#define EMBER_TOKENIZER_MERGE_BOUNDARIES_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace ember {

class MergeBoundaries {
 public:
  MergeBoundaries() = default;
  // `tokens`: the text of every token a merge can produce.
  explicit MergeBoundaries(const std::vector<std::string_view>& tokens);

  // Cuts valid UTF-8 `text` into consecutive pieces that no token spans; calls
  // piece(std::string_view) for each, in order.
  template <typename PieceFn>
  void Split(std::string_view text, PieceFn&& piece) const;

 private:
  // Code points below 128 and U+2581 get a dense index for a bit table; others are hashed.
  static constexpr int kDense = 129;
  static int DenseIndex(char32_t cp) {
    return cp < 128 ? static_cast<int>(cp) : cp == 0x2581 ? 128 : -1;
  }
  static uint64_t PairKey(char32_t a, char32_t b) { return (uint64_t{a} << 32) | b; }
  void Add(char32_t a, char32_t b);
  bool Joined(char32_t a, char32_t b) const {
    const int ia = DenseIndex(a), ib = DenseIndex(b);
    if (ia >= 0 && ib >= 0) return dense_[ia * kDense + ib];
    return sparse_.contains(PairKey(a, b));
  }
  // Decodes the (valid) character at text[pos], setting its length.
  static char32_t CodePointAt(std::string_view text, size_t pos, size_t* length);

  std::vector<bool> dense_ = std::vector<bool>(kDense * kDense, false);
  absl::flat_hash_set<uint64_t> sparse_;
};

template <typename PieceFn>
void MergeBoundaries::Split(std::string_view text, PieceFn&& piece) const {
  size_t begin = 0, pos = 0, length = 0;
  if (text.empty()) return;
  char32_t prev = CodePointAt(text, 0, &length);
  for (pos = length; pos < text.size(); pos += length) {
    const char32_t cur = CodePointAt(text, pos, &length);
    if (!Joined(prev, cur)) {
      piece(text.substr(begin, pos - begin));
      begin = pos;
    }
    prev = cur;
  }
  piece(text.substr(begin));
}

}  // namespace ember

#endif  // EMBER_TOKENIZER_MERGE_BOUNDARIES_H_
