#include "lib/grammar/text_check.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace ember::grammar {

double TextCheckResult::MedianMaskUs() const {
  if (mask_us.empty()) return 0;
  std::vector<double> v = mask_us;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

double TextCheckResult::MaxMaskUs() const {
  return mask_us.empty() ? 0 : *std::max_element(mask_us.begin(), mask_us.end());
}

bool TokenizerAddedPrefixSpace(const TokenTrie& trie, absl::Span<const int32_t> ids, std::string_view text) {
  if (ids.empty() || (!text.empty() && text[0] == ' ')) return false;
  std::string rendered;
  for (int32_t id : ids) {
    if (id < 0 || id >= trie.n_vocab()) return false;
    rendered += trie.token_bytes(id);
  }
  return rendered.size() == text.size() + 1 && rendered[0] == ' ' && std::string_view(rendered).substr(1) == text;
}

TextCheckResult CheckTokens(GrammarConstraint* constraint, absl::Span<const int32_t> ids,
                            bool first_token_space_is_prefix) {
  TextCheckResult r;
  r.tokens = static_cast<int32_t>(ids.size());
  TokenMask mask;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    constraint->ComputeMask(&mask);
    const auto t1 = std::chrono::steady_clock::now();
    r.mask_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    const int32_t id = ids[i];
    if (i == 0 && first_token_space_is_prefix) {
      const std::string& bytes = constraint->trie().token_bytes(id);
      if (!bytes.empty() && bytes[0] == ' ' && (bytes.size() == 1 || constraint->AcceptBytes(bytes.substr(1)))) continue;
    }
    if (id < 0 || id >= mask.n || !mask.Test(id) || !constraint->Accept(id).ok()) {
      r.accepted = false;
      r.rejected_at = static_cast<int32_t>(i);
      return r;
    }
  }
  r.complete = constraint->IsComplete();
  return r;
}

}  // namespace ember::grammar
