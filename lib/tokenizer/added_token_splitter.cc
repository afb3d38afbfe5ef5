#include "lib/tokenizer/added_token_splitter.h"

#include <algorithm>

namespace ember {

void AddedTokenSplitter::Trie::Insert(std::string_view text, int32_t token) {
  int32_t node = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<uint8_t>(text[i]);
    int32_t next = node < 0 ? root_[byte] : Child(node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      if (node < 0) {
        root_[byte] = next;
      } else {
        nodes_[node].children.emplace_back(byte, next);
      }
    }
    node = next;
  }
  if (node >= 0 && nodes_[node].token < 0) nodes_[node].token = token;  // first one wins
}

int32_t AddedTokenSplitter::Trie::Child(int32_t node, uint8_t byte) const {
  for (const auto& [b, child] : nodes_[node].children) {
    if (b == byte) return child;
  }
  return -1;
}

template <typename Allowed>
size_t AddedTokenSplitter::Trie::LongestAt(std::string_view text, size_t pos, Allowed allowed,
                                           int32_t* token) const {
  size_t best = 0;
  int32_t node = root_[static_cast<uint8_t>(text[pos])];
  for (size_t i = pos; node >= 0;) {
    ++i;
    const int32_t t = nodes_[node].token;
    if (t >= 0 && allowed(t)) {
      best = i - pos;
      *token = t;
    }
    if (i >= text.size()) break;
    node = Child(node, static_cast<uint8_t>(text[i]));
  }
  return best;
}

template <typename Visit>
void AddedTokenSplitter::Trie::ForEachAt(std::string_view text, size_t pos, Visit visit) const {
  int32_t node = root_[static_cast<uint8_t>(text[pos])];
  for (size_t i = pos; node >= 0;) {
    ++i;
    if (nodes_[node].token >= 0) visit(nodes_[node].token);
    if (i >= text.size()) break;
    node = Child(node, static_cast<uint8_t>(text[i]));
  }
}

AddedTokenSplitter::AddedTokenSplitter(AddedTokenRules rules, std::vector<Token> tokens)
    : rules_(rules) {
  for (auto& t : tokens) {
    if (!t.text.empty()) tokens_.push_back(std::move(t));
  }
  if (rules_ == AddedTokenRules::kLlamaCpp) {
    std::sort(tokens_.begin(), tokens_.end(), [](const Token& a, const Token& b) {
      if (a.text.size() != b.text.size()) return a.text.size() > b.text.size();
      return a.id < b.id;
    });
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const bool second = rules_ == AddedTokenRules::kHfTokenizers && tokens_[i].normalized;
    (second ? second_pass_ : first_pass_).Insert(tokens_[i].text, static_cast<int32_t>(i));
  }
}

void AddedTokenSplitter::Split(std::string_view text, bool parse_special,
                               std::vector<TextSegment>* out) const {
  out->clear();
  if (text.empty()) return;
  if (tokens_.empty()) {
    out->push_back({-1, text});
    return;
  }
  if (rules_ == AddedTokenRules::kLlamaCpp) {
    SplitLongestFirst(text, parse_special, out);
    return;
  }
  out->push_back({-1, text});
  if (!first_pass_.empty()) SplitLeftmostLongest(first_pass_, parse_special, out);
  if (!second_pass_.empty()) SplitLeftmostLongest(second_pass_, parse_special, out);
}

void AddedTokenSplitter::SplitLeftmostLongest(const Trie& trie, bool parse_special,
                                              std::vector<TextSegment>* segments) const {
  const auto allowed = [&](int32_t t) { return parse_special || !tokens_[t].special; };
  std::vector<TextSegment> out;
  out.reserve(segments->size());
  for (const TextSegment& seg : *segments) {
    if (seg.token >= 0) {
      out.push_back(seg);
      continue;
    }
    const std::string_view s = seg.text;
    size_t raw_start = 0;
    for (size_t pos = 0; pos < s.size();) {
      int32_t t = -1;
      const size_t len = trie.LongestAt(s, pos, allowed, &t);
      if (len == 0) {
        ++pos;
        continue;
      }
      if (pos > raw_start) out.push_back({-1, s.substr(raw_start, pos - raw_start)});
      out.push_back({tokens_[t].id, s.substr(pos, len)});
      pos += len;
      raw_start = pos;
    }
    if (raw_start < s.size()) out.push_back({-1, s.substr(raw_start)});
  }
  segments->swap(out);
}

void AddedTokenSplitter::SplitLongestFirst(std::string_view text, bool parse_special,
                                           std::vector<TextSegment>* out) const {
  // Which tokens occur at all: one trie walk per position, so that text without any added
  // token (most prose) costs a single scan instead of one search per token.
  std::vector<bool> present(tokens_.size(), false);
  size_t n_present = 0;
  size_t n_allowed = 0;
  for (const Token& t : tokens_) n_allowed += parse_special || !t.special;
  for (size_t pos = 0; pos < text.size() && n_present < n_allowed; ++pos) {
    first_pass_.ForEachAt(text, pos, [&](int32_t t) {
      if (!present[t] && (parse_special || !tokens_[t].special)) {
        present[t] = true;
        ++n_present;
      }
    });
  }
  out->push_back({-1, text});
  if (n_present == 0) return;
  std::vector<TextSegment> next;
  for (size_t t = 0; t < tokens_.size(); ++t) {
    if (!present[t]) continue;
    const std::string_view needle = tokens_[t].text;
    next.clear();
    for (const TextSegment& seg : *out) {
      if (seg.token >= 0) {
        next.push_back(seg);
        continue;
      }
      std::string_view rest = seg.text;
      for (size_t hit; (hit = rest.find(needle)) != std::string_view::npos;) {
        if (hit > 0) next.push_back({-1, rest.substr(0, hit)});
        next.push_back({tokens_[t].id, rest.substr(hit, needle.size())});
        rest.remove_prefix(hit + needle.size());
      }
      if (!rest.empty()) next.push_back({-1, rest});
    }
    out->swap(next);
  }
}

}  // namespace ember
