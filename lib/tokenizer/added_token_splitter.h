// Splits text around added tokens (special / user-defined tokens matched as literal text)
// before pre-tokenization, with the matching rules of either reference:
//  * HF tokenizers: leftmost-longest matching, first the tokens with normalized == false on
//    the raw text, then the normalized ones on what is left (with no normalizer, the token
//    text is its own pattern).
//  * llama.cpp: tokens in order of decreasing length (ties: lower id first); each one splits
//    every remaining raw fragment at all its non-overlapping occurrences, left to right.
// The two agree on Phi-2's space/tab runs but not on every token set ("ab","bcd" in "abcd":
// HF gives ab|c|d, llama.cpp a|bcd).
#ifndef EMBER_TOKENIZER_ADDED_TOKEN_SPLITTER_H_
#define EMBER_TOKENIZER_ADDED_TOKEN_SPLITTER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ember {

// One piece of the split text: an added token, or raw text still to be tokenized.
struct TextSegment {
  int32_t token = -1;     // >= 0: this token id; -1: raw text
  std::string_view text;  // the raw text, or the matched token text
};

enum class AddedTokenRules { kHfTokenizers, kLlamaCpp };

class AddedTokenSplitter {
 public:
  struct Token {
    int32_t id = 0;
    std::string text;
    bool special = false;     // matched only when parse_special is on
    bool normalized = false;  // HF: matched in the second pass
  };

  AddedTokenSplitter() = default;
  // Tokens with empty text are ignored.
  AddedTokenSplitter(AddedTokenRules rules, std::vector<Token> tokens);

  bool empty() const { return tokens_.empty(); }

  // Replaces `out` with the segments of `text`, in order.
  void Split(std::string_view text, bool parse_special, std::vector<TextSegment>* out) const;

 private:
  // Byte trie over token texts; each node knows the token (index into tokens_) ending there.
  class Trie {
   public:
    Trie() { root_.fill(-1); }
    void Insert(std::string_view text, int32_t token);
    // Length of the longest token starting at text[pos] that `allowed` accepts, or 0.
    template <typename Allowed>
    size_t LongestAt(std::string_view text, size_t pos, Allowed allowed, int32_t* token) const;
    // Calls visit(token) for every token that starts at text[pos].
    template <typename Visit>
    void ForEachAt(std::string_view text, size_t pos, Visit visit) const;
    bool empty() const { return nodes_.empty(); }

   private:
    struct Node {
      int32_t token = -1;
      std::vector<std::pair<uint8_t, int32_t>> children;
    };
    int32_t Child(int32_t node, uint8_t byte) const;
    std::array<int32_t, 256> root_;  // first byte -> node
    std::vector<Node> nodes_;
  };

  void SplitLeftmostLongest(const Trie& trie, bool parse_special,
                            std::vector<TextSegment>* segments) const;
  void SplitLongestFirst(std::string_view text, bool parse_special,
                         std::vector<TextSegment>* out) const;

  AddedTokenRules rules_ = AddedTokenRules::kHfTokenizers;
  std::vector<Token> tokens_;  // llama.cpp: sorted by decreasing length, then id
  Trie first_pass_;            // HF: normalized == false; llama.cpp: all tokens
  Trie second_pass_;           // HF: normalized == true
};

}  // namespace ember

#endif  // EMBER_TOKENIZER_ADDED_TOKEN_SPLITTER_H_
