#include "lib/runtime/speculation.h"

#include <algorithm>

namespace ember {

std::vector<int32_t> PromptLookupDraft(absl::Span<const int32_t> context, int32_t n_draft) {
  std::vector<int32_t> draft;
  const int64_t size = static_cast<int64_t>(context.size());
  if (n_draft <= 0) return draft;
  for (int64_t n = std::min<int64_t>(kLookupMaxNgram, size - 1); n >= 1; --n) {
    const absl::Span<const int32_t> tail = context.subspan(static_cast<size_t>(size - n));
    // Latest start first: recent text predicts best. A match must leave a token after it.
    for (int64_t start = size - n - 1; start >= 0; --start) {
      if (!std::equal(tail.begin(), tail.end(), context.begin() + start)) continue;
      const int64_t from = start + n;
      const int64_t take = std::min<int64_t>(n_draft, size - from);
      draft.assign(context.begin() + from, context.begin() + from + take);
      return draft;
    }
  }
  return draft;
}

}  // namespace ember
