// The BPE merge loop shared by both SentencePiece encoders: symbols in a doubly linked list
// over the text, a priority queue of adjacent pairs, and lazy deletion of pairs that went
// stale. O(n log n) in the number of symbols; no allocation per symbol or per pair beyond
// the two vectors.
#ifndef EMBER_TOKENIZER_SYMBOL_MERGE_H_
#define EMBER_TOKENIZER_SYMBOL_MERGE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ember {

// A run of text bytes [start, start + length) that is currently one token. length == 0
// marks a symbol that was merged into its left neighbour.
struct MergeSymbol {
  uint32_t start = 0;
  uint32_t length = 0;
  int32_t prev = -1;
  int32_t next = -1;
  int32_t id = -1;  // token id, or -1 when the text is not a token (yet)
};

// A mergeable adjacent pair. Pairs pop in order of increasing `priority` (callers negate
// scores that should pop highest-first), then from the left.
struct MergeCandidate {
  float priority = 0;
  int32_t left = 0;
  int32_t right = 0;
  uint32_t length = 0;  // left.length + right.length when the pair was queued
  int32_t id = -1;      // the merged token
};

// Merges adjacent symbols until no queued pair is left. `symbols` must be a chain in text
// order (prev/next set); `pair_of(left, right, &candidate)` decides whether two adjacent
// symbols can merge and fills priority and id. `heap` is scratch space.
template <typename PairFn>
void MergeSymbols(std::vector<MergeSymbol>& symbols, PairFn&& pair_of,
                  std::vector<MergeCandidate>& heap) {
  const auto later = [](const MergeCandidate& a, const MergeCandidate& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.left > b.left;
  };
  heap.clear();
  const auto try_queue = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    MergeCandidate c;
    if (!pair_of(symbols[left], symbols[right], &c)) return;
    c.left = left;
    c.right = right;
    c.length = symbols[left].length + symbols[right].length;
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (size_t i = 1; i < symbols.size(); ++i) {
    try_queue(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  }
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const MergeCandidate c = heap.back();
    heap.pop_back();
    MergeSymbol& left = symbols[c.left];
    MergeSymbol& right = symbols[c.right];
    // Stale: one side was merged away or grew since the pair was queued.
    if (left.length == 0 || right.length == 0 || left.next != c.right ||
        left.length + right.length != c.length) {
      continue;
    }
    left.length += right.length;
    left.id = c.id;
    left.next = right.next;
    right.length = 0;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    try_queue(left.prev, c.left);
    try_queue(c.left, left.next);
  }
}

}  // namespace ember

#endif  // EMBER_TOKENIZER_SYMBOL_MERGE_H_
