// The sampler's candidate order as one integer: a key whose ascending order is descending
// logit, then ascending token id. Sorting 64-bit keys is several times cheaper than sorting
// (logit, id) pairs through a comparator, and without top_k a sampled token sorts the whole
// vocabulary (Phi-2: 51,200 ids; the pair sort was 56% of a tiny model's sampled generation
// under perf).
#ifndef EMBER_RUNTIME_LOGIT_ORDER_H_
#define EMBER_RUNTIME_LOGIT_ORDER_H_

#include <bit>
#include <cstdint>
#include <utility>

namespace ember {

// The float's bits mapped monotonically onto unsigned integers (negative values: every bit
// flipped; the others: the sign bit set), inverted so larger logits come first, above the id.
// -0 is folded into +0 so that the two tie, as they compare equal. Precondition: logit is not
// NaN (the sampler maps NaN to -infinity first) and id >= 0.
inline uint64_t LogitSortKey(float logit, int32_t id) {
  if (logit == 0.0f) logit = 0.0f;
  const uint32_t bits = std::bit_cast<uint32_t>(logit);
  const uint32_t ordered = (bits & 0x80000000u) != 0 ? ~bits : (bits | 0x80000000u);
  return (static_cast<uint64_t>(~ordered) << 32) | static_cast<uint32_t>(id);
}

// The (logit, id) a key was made from; -0 comes back as +0.
inline std::pair<float, int32_t> LogitSortKeyCandidate(uint64_t key) {
  const uint32_t ordered = ~static_cast<uint32_t>(key >> 32);
  const uint32_t bits = (ordered & 0x80000000u) != 0 ? (ordered & 0x7FFFFFFFu) : ~ordered;
  return {std::bit_cast<float>(bits), static_cast<int32_t>(static_cast<uint32_t>(key))};
}

}  // namespace ember

#endif  // EMBER_RUNTIME_LOGIT_ORDER_H_
