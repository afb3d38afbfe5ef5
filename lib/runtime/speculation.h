// Draft tokens for speculative decoding by prompt lookup: when the text being generated
// repeats something already in the context (summaries quoting their source, edits of a
// given text, code), the tokens that followed the last occurrence of the context's final
// n-gram are a cheap guess at what comes next. The generator (generator.h) evaluates the
// sampled token and the guess in one forward pass, which on a memory-bound decode costs
// about one step, then keeps the longest prefix of the guess that sampling confirms.
#ifndef EMBER_RUNTIME_SPECULATION_H_
#define EMBER_RUNTIME_SPECULATION_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace ember {

// Up to max_ngram: the longest n-gram size tried first, down to 1.
inline constexpr int kLookupMaxNgram = 3;

// Up to n_draft tokens that followed the most recent earlier occurrence of the context's
// last n tokens (n from kLookupMaxNgram down to 1; the first n with a match wins), or none.
// O(context size x kLookupMaxNgram).
std::vector<int32_t> PromptLookupDraft(absl::Span<const int32_t> context, int32_t n_draft);

}  // namespace ember

#endif  // EMBER_RUNTIME_SPECULATION_H_
