// A grammar lowered to bytes: every rule is a list of alternatives, every alternative a
// sequence of elements that are either a set of bytes, a call of another rule, or the end of
// the alternative. This is what the matcher runs; it is immutable and shared read-only by
// every session that uses the grammar.
#ifndef EMBER_GRAMMAR_PROGRAM_H_
#define EMBER_GRAMMAR_PROGRAM_H_

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/grammar/grammar_ir.h"

namespace ember::grammar {

// 256 bits: which bytes an element accepts.
struct ByteSet {
  uint64_t w[4] = {0, 0, 0, 0};
  bool Test(uint8_t b) const { return (w[b >> 6] >> (b & 63)) & 1; }
  void Set(uint8_t b) { w[b >> 6] |= uint64_t{1} << (b & 63); }
  void SetRange(uint8_t lo, uint8_t hi) {
    for (int b = lo; b <= hi; ++b) Set(static_cast<uint8_t>(b));
  }
  void Or(const ByteSet& o) {
    for (int i = 0; i < 4; ++i) w[i] |= o.w[i];
  }
  bool Empty() const { return (w[0] | w[1] | w[2] | w[3]) == 0; }
  bool SubsetOf(const ByteSet& o) const {
    return ((w[0] & ~o.w[0]) | (w[1] & ~o.w[1]) | (w[2] & ~o.w[2]) | (w[3] & ~o.w[3])) == 0;
  }
  void And(const ByteSet& o) {
    for (int i = 0; i < 4; ++i) w[i] &= o.w[i];
  }
  void AndNot(const ByteSet& o) {
    for (int i = 0; i < 4; ++i) w[i] &= ~o.w[i];
  }
  int Count() const {
    return std::popcount(w[0]) + std::popcount(w[1]) + std::popcount(w[2]) + std::popcount(w[3]);
  }
  // The smallest byte in the set; the set must not be empty.
  uint8_t Lowest() const {
    int i = 0;
    while (w[i] == 0) ++i;
    return static_cast<uint8_t>(i * 64 + std::countr_zero(w[i]));
  }
  // Calls f(byte) for every byte in the set, in increasing order.
  template <typename F>
  void ForEach(F&& f) const {
    for (int i = 0; i < 4; ++i) {
      for (uint64_t bits = w[i]; bits != 0; bits &= bits - 1) f(static_cast<uint8_t>(i * 64 + std::countr_zero(bits)));
    }
  }
  friend bool operator==(const ByteSet&, const ByteSet&) = default;
};

struct Element {
  enum Kind : uint8_t { kBytes, kRule, kEnd };
  Kind kind = kEnd;
  int32_t arg = 0;  // kBytes: index into byte_sets; kRule: rule index
};

struct Program {
  std::vector<Element> elements;                // alternatives, each closed by kEnd
  std::vector<std::vector<int32_t>> rule_alts;  // start positions of each rule's alternatives
  std::vector<std::string> rule_names;
  std::vector<ByteSet> byte_sets;
  int32_t root = 0;
  // Bounded repetitions x{0,k} as chains of rules O_1..O_k (O_j ::= x O_{j-1} | ""), so that
  // a matcher can tell states that differ only in a count beyond any token's length.
  std::vector<std::vector<int32_t>> chains;

  size_t MemoryBytes() const;
  // Position -> the same position with every chain rule O_j, j > keep, replaced by O_keep
  // (identity elsewhere). Two states whose stacks agree under this map accept the same byte
  // strings of up to keep - 1 bytes.
  std::vector<int32_t> ClampedPositions(size_t keep) const;
};

// Lowers `ir` (from its root rule; unreachable rules are ignored) and checks it: undefined
// rules, an empty language, left recursion (also through rules that can match the empty
// string) and the size limits are InvalidArgumentErrors naming the rule.
absl::StatusOr<std::shared_ptr<const Program>> CompileGrammar(const GrammarIr& ir);

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_PROGRAM_H_
