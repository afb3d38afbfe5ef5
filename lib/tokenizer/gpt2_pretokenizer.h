// GPT-2's pre-tokenizer: splits text into the words that BPE then encodes independently.
// It is the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (the same in HF tokenizers' ByteLevel pre-tokenizer and llama.cpp's "gpt-2" pre-type),
// written as a scanner over code points. Categories come from utf8proc: \p{L} = Lu Ll Lt Lm
// Lo, \p{N} = Nd Nl No, and \s = the Unicode White_Space property, which is exactly
// Zs Zl Zp plus U+0009..U+000D and U+0085 (what Rust regex, Oniguruma and llama.cpp use).
#ifndef EMBER_TOKENIZER_GPT2_PRETOKENIZER_H_
#define EMBER_TOKENIZER_GPT2_PRETOKENIZER_H_

#include <string_view>
#include <vector>

namespace ember {

// Appends the words of `text` to `words` (views into `text`; together they cover it
// exactly, in order). `text` must be valid UTF-8.
void SplitGpt2Words(std::string_view text, std::vector<std::string_view>* words);

}  // namespace ember

#endif  // EMBER_TOKENIZER_GPT2_PRETOKENIZER_H_
