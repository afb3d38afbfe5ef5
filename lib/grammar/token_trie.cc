#include "lib/grammar/token_trie.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace ember::grammar {

absl::StatusOr<std::shared_ptr<const TokenTrie>> TokenTrie::Build(const Tokenizer& tokenizer, int32_t n_vocab) {
  auto trie = std::make_shared<TokenTrie>();
  trie->n_vocab_ = std::max(n_vocab, tokenizer.n_tokens());
  trie->eos_ = tokenizer.eos();
  trie->token_bytes_.resize(trie->n_vocab_);
  const int32_t n = tokenizer.n_sampleable();
  for (int32_t id = 0; id < n; ++id) {
    if (tokenizer.IsControl(id)) continue;
    EMBER_RETURN_IF_ERROR(tokenizer.TokenBytes(id, /*skip_special=*/false, &trie->token_bytes_[id]));
    if (trie->token_bytes_[id].size() > 0xFFFF) trie->token_bytes_[id].clear();
  }
  trie->BuildNodes();
  return std::shared_ptr<const TokenTrie>(std::move(trie));
}

std::shared_ptr<const TokenTrie> TokenTrie::FromStrings(const std::vector<std::string>& tokens, int32_t eos) {
  auto trie = std::make_shared<TokenTrie>();
  trie->n_vocab_ = static_cast<int32_t>(tokens.size());
  trie->eos_ = eos;
  trie->token_bytes_ = tokens;
  if (eos >= 0 && eos < trie->n_vocab_) trie->token_bytes_[eos].clear();
  trie->BuildNodes();
  return trie;
}

void TokenTrie::BuildNodes() {
  std::vector<int32_t> order;
  for (int32_t id = 0; id < n_vocab_; ++id) {
    if (!token_bytes_[id].empty()) order.push_back(id);
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const int c = token_bytes_[a].compare(token_bytes_[b]);
    return c != 0 ? c < 0 : a < b;
  });
  token_ids_ = order;
  nodes_.clear();
  std::vector<uint32_t> path;  // node index at each depth of the current string
  std::string_view prev;
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& s = token_bytes_[order[i]];
    size_t common = 0;
    const size_t limit = std::min(prev.size(), s.size());
    while (common < limit && prev[common] == s[common]) ++common;
    while (path.size() > common) {
      nodes_[path.back()].subtree_end = static_cast<uint32_t>(nodes_.size());
      path.pop_back();
    }
    for (size_t d = common; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back(Node{0, 0, 0, static_cast<uint16_t>(d + 1), static_cast<uint8_t>(s[d]), static_cast<uint16_t>(d + 1)});
    }
    max_depth_ = std::max(max_depth_, s.size());
    Node& last = nodes_[path.back()];
    if (last.token_count == 0) last.token_begin = static_cast<uint32_t>(i);
    ++last.token_count;
    prev = s;
  }
  while (!path.empty()) {
    nodes_[path.back()].subtree_end = static_cast<uint32_t>(nodes_.size());
    path.pop_back();
  }
  const size_t n = nodes_.size();
  tokens_from_.assign(n + 1, static_cast<uint32_t>(order.size()));
  bytes_below_.assign(n, ByteSet{});
  for (size_t i = n; i-- > 0;) {
    tokens_from_[i] = nodes_[i].token_count > 0 ? nodes_[i].token_begin : tokens_from_[i + 1];
    for (size_t c = i + 1; c < nodes_[i].subtree_end; c = nodes_[c].subtree_end) {
      bytes_below_[i].Set(nodes_[c].byte);
      bytes_below_[i].Or(bytes_below_[c]);
      nodes_[i].deepest = std::max(nodes_[i].deepest, nodes_[c].deepest);
    }
  }
}

size_t TokenTrie::MemoryBytes() const {
  size_t n = nodes_.size() * (sizeof(Node) + sizeof(ByteSet) + sizeof(uint32_t)) + token_ids_.size() * sizeof(int32_t);
  for (const std::string& s : token_bytes_) n += sizeof(std::string) + (s.size() > 15 ? s.size() : 0);
  return n;
}

}  // namespace ember::grammar
