// The GPT-2 byte-level BPE tokenizer behind CreateGpt2TokenizerFrom{Gguf,HfJson}: the
// loaders (bpe_tokenizer.cc) validate a vocabulary into a ByteLevelBpeSpec, and this file
// turns it into a Tokenizer. Encoding: added tokens are split out first, each remaining
// fragment is cut into words by the GPT-2 pre-tokenizer, and each word's bytes are merged
// by rank, starting from the 256 byte symbols. Words already seen are served from a cache.
#ifndef EMBER_TOKENIZER_BYTE_LEVEL_BPE_H_
#define EMBER_TOKENIZER_BYTE_LEVEL_BPE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/tokenizer/tokenizer.h"

namespace ember {

// Whose behaviour to reproduce where the references differ: added-token matching (see
// added_token_splitter.h) and decoding (HF: byte-level decoder, then invalid UTF-8 becomes
// U+FFFD; llama.cpp: raw bytes, then its clean-up of spaces before punctuation).
enum class BpeFlavor { kHfTokenizers, kLlamaCpp };

struct ByteLevelBpeSpec {
  BpeFlavor flavor = BpeFlavor::kHfTokenizers;
  std::string source;  // file name, for messages

  // Indexed by token id. `text` is the token as the vocabulary stores it (byte symbols for
  // ordinary tokens, literal text for added ones). `type` follows GGUF's token types; the
  // HF loader marks special added tokens kControl and other added tokens kUserDefined.
  // Values outside TokenType (llama.cpp's "undefined") render as "" and are never matched.
  std::vector<std::string> text;
  std::vector<int32_t> type;

  // Merge rules in rank order: (left, right) -> result, all valid token ids.
  struct Merge {
    int32_t left, right, result;
  };
  std::vector<Merge> merges;
  // The token of each single byte symbol (all 256 must exist).
  int32_t byte_token[256] = {};

  // HF only: added tokens with normalized == true (matched in the second pass).
  std::vector<int32_t> normalized_added;
  bool add_prefix_space = false;  // HF ByteLevel(add_prefix_space)
  bool clean_spaces = false;      // llama.cpp's clean_spaces when decoding

  int32_t bos = -1;
  int32_t eos = -1;
  bool add_bos = false;
};

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateByteLevelBpe(ByteLevelBpeSpec spec);

}  // namespace ember

#endif  // EMBER_TOKENIZER_BYTE_LEVEL_BPE_H_
