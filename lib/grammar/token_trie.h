// The model's vocabulary as a byte trie, built once per vocabulary and shared read-only by
// every constraint on that model. Nodes are stored in depth-first order with the index just
// past each subtree, so a mask computation is one forward scan that jumps over the subtree
// of every byte the grammar rejects.
#ifndef EMBER_GRAMMAR_TOKEN_TRIE_H_
#define EMBER_GRAMMAR_TOKEN_TRIE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/grammar/program.h"
#include "lib/tokenizer/tokenizer.h"

namespace ember::grammar {

class TokenTrie {
 public:
  struct Node {
    uint32_t subtree_end;  // index of the first node after this node's subtree
    uint32_t token_begin;  // tokens ending here: token_ids()[token_begin, +token_count)
    uint16_t token_count;
    uint16_t depth;        // 1 for children of the (implicit) root
    uint8_t byte;
    uint16_t deepest;      // the largest depth in this node's subtree (the node included)
  };

  // Token ids [0, tokenizer.n_sampleable()) with their TokenBytes; control tokens and tokens
  // that render as no bytes are left out (a constraint never lets them through, except EOS
  // which it allows once the grammar is complete). `n_vocab` is the mask width (the model's
  // output rows, at least n_tokens()).
  static absl::StatusOr<std::shared_ptr<const TokenTrie>> Build(const Tokenizer& tokenizer, int32_t n_vocab);
  // For tests: explicit token strings (id = index; empty strings are left out).
  static std::shared_ptr<const TokenTrie> FromStrings(const std::vector<std::string>& tokens, int32_t eos);

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  int32_t n_vocab() const { return n_vocab_; }
  int32_t eos() const { return eos_; }
  // The longest token in bytes (the deepest node).
  size_t max_depth() const { return max_depth_; }
  // Bytes that occur below node i (in its descendants, not the node itself).
  const ByteSet& bytes_below(size_t i) const { return bytes_below_[i]; }
  // token_ids()[tokens_from(i), tokens_from(nodes()[i].subtree_end)) are the tokens of the
  // subtree of node i (depth-first order is lexicographic order).
  uint32_t tokens_from(size_t i) const { return tokens_from_[i]; }
  // The bytes of token `id` ("" for tokens left out).
  const std::string& token_bytes(int32_t id) const { return token_bytes_[id]; }
  size_t MemoryBytes() const;

 private:
  void BuildNodes();
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  std::vector<ByteSet> bytes_below_;
  std::vector<uint32_t> tokens_from_;
  std::vector<std::string> token_bytes_;
  int32_t n_vocab_ = 0;
  int32_t eos_ = -1;
  size_t max_depth_ = 0;
};

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_TOKEN_TRIE_H_
