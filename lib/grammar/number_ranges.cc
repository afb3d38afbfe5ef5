#include "lib/grammar/number_ranges.h"

#include <string>
#include <vector>

namespace ember::grammar {

namespace {

int32_t DigitRange(GrammarIr* ir, char lo, char hi) { return ir->Class({{char32_t(lo), char32_t(hi)}}); }
int32_t AnyDigits(GrammarIr* ir, uint32_t n) { return ir->Repeat(DigitRange(ir, '0', '9'), n, n); }

// Digit strings of length a.size() == b.size() between a and b (leading zeros allowed).
int32_t SameLength(GrammarIr* ir, const std::string& a, const std::string& b) {
  if (a.empty()) return ir->Empty();
  if (a == b) return ir->Literal(a);
  const std::string ra = a.substr(1), rb = b.substr(1);
  if (a[0] == b[0]) return ir->Seq({ir->Literal(a.substr(0, 1)), SameLength(ir, ra, rb)});
  const std::string zeros(ra.size(), '0'), nines(ra.size(), '9');
  std::vector<int32_t> alts;
  char first = a[0], last = b[0];
  if (ra == zeros) {
    first = a[0];
  } else {
    alts.push_back(ir->Seq({ir->Literal(a.substr(0, 1)), SameLength(ir, ra, nines)}));
    first = static_cast<char>(a[0] + 1);
  }
  if (rb != nines) {
    last = static_cast<char>(b[0] - 1);
  }
  if (first <= last) alts.push_back(ir->Seq({DigitRange(ir, first, last), AnyDigits(ir, static_cast<uint32_t>(ra.size()))}));
  if (rb != nines) alts.push_back(ir->Seq({ir->Literal(b.substr(0, 1)), SameLength(ir, zeros, rb)}));
  return ir->Alt(std::move(alts));
}

uint64_t Pow10(size_t n) {
  uint64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// Non-negative integers in [a, b] without leading zeros; b == nullopt: unbounded.
int32_t Magnitude(GrammarIr* ir, uint64_t a, std::optional<uint64_t> b) {
  if (b && a > *b) return ir->Never();
  std::vector<int32_t> alts;
  const std::string sa = std::to_string(a);
  const size_t max_len = b ? std::to_string(*b).size() : sa.size();
  for (size_t len = sa.size(); len <= max_len; ++len) {
    const uint64_t lo = len == sa.size() ? a : Pow10(len - 1);
    uint64_t hi = len >= 20 ? UINT64_MAX : Pow10(len) - 1;
    if (b && *b < hi) hi = *b;
    if (lo > hi) continue;
    alts.push_back(SameLength(ir, std::to_string(lo), std::to_string(hi)));
  }
  if (!b) {
    // Every longer number.
    alts.push_back(ir->Seq({DigitRange(ir, '1', '9'), ir->Repeat(DigitRange(ir, '0', '9'),
                                                                  static_cast<uint32_t>(sa.size()), kUnbounded)}));
  }
  return ir->Alt(std::move(alts));
}

uint64_t Abs(int64_t v) { return v < 0 ? uint64_t(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v); }

enum class Frac { kAny, kZero, kNonZero };

int32_t Fraction(GrammarIr* ir, Frac f) {
  const int32_t digit = DigitRange(ir, '0', '9');
  switch (f) {
    case Frac::kAny:
      return ir->Optional(ir->Seq({ir->Literal("."), ir->Repeat(digit, 1, kUnbounded)}));
    case Frac::kZero:
      return ir->Optional(ir->Seq({ir->Literal("."), ir->Repeat(ir->Literal("0"), 1, kUnbounded)}));
    case Frac::kNonZero:
      return ir->Seq({ir->Literal("."), ir->Star(digit), DigitRange(ir, '1', '9'), ir->Star(digit)});
  }
  return ir->Never();
}

// Magnitudes m = I.F with A <= m <= B (flags make either end exclusive); B nullopt: no bound.
int32_t MagnitudeWithFraction(GrammarIr* ir, uint64_t a, bool a_excl, std::optional<uint64_t> b, bool b_excl) {
  std::vector<int32_t> alts;
  if (b && a == *b) {
    if (!a_excl && !b_excl) alts.push_back(ir->Seq({Magnitude(ir, a, a), Fraction(ir, Frac::kZero)}));
    return ir->Alt(std::move(alts));
  }
  if (b && a > *b) return ir->Never();
  // I == A
  alts.push_back(ir->Seq({Magnitude(ir, a, a), Fraction(ir, a_excl ? Frac::kNonZero : Frac::kAny)}));
  // A < I < B
  if (!b) {
    alts.push_back(ir->Seq({Magnitude(ir, a + 1, std::nullopt), Fraction(ir, Frac::kAny)}));
  } else if (*b > a + 1) {
    alts.push_back(ir->Seq({Magnitude(ir, a + 1, *b - 1), Fraction(ir, Frac::kAny)}));
  }
  // I == B
  if (b && !b_excl) alts.push_back(ir->Seq({Magnitude(ir, *b, *b), Fraction(ir, Frac::kZero)}));
  return ir->Alt(std::move(alts));
}

}  // namespace

int32_t IntegerRangeExpr(GrammarIr* ir, std::optional<int64_t> lo, std::optional<int64_t> hi) {
  if (lo && hi && *lo > *hi) return ir->Never();
  std::vector<int32_t> alts;
  // n >= 0 part.
  if (!hi || *hi >= 0) {
    const uint64_t a = lo && *lo > 0 ? static_cast<uint64_t>(*lo) : 0;
    std::optional<uint64_t> b;
    if (hi) b = static_cast<uint64_t>(*hi);
    alts.push_back(Magnitude(ir, a, b));
  }
  // n < 0 part: "-" |n| with |n| in [max(1, -hi), -lo].
  if (!lo || *lo < 0) {
    const uint64_t a = hi && *hi < 0 ? Abs(*hi) : 1;
    std::optional<uint64_t> b;
    if (lo) b = Abs(*lo);
    alts.push_back(ir->Seq({ir->Literal("-"), Magnitude(ir, a, b)}));
  }
  return ir->Alt(std::move(alts));
}

int32_t NumberRangeExpr(GrammarIr* ir, std::optional<int64_t> lo, bool lo_excl, std::optional<int64_t> hi,
                        bool hi_excl) {
  std::vector<int32_t> alts;
  // x >= 0 (written without '-'): magnitude in [max(lo, 0), hi].
  if (!hi || *hi > 0 || (*hi == 0 && !hi_excl)) {
    uint64_t a = 0;
    bool a_excl = false;
    if (lo && *lo >= 0) {
      a = static_cast<uint64_t>(*lo);
      a_excl = lo_excl;
    }
    std::optional<uint64_t> b;
    bool b_excl = false;
    if (hi) {
      b = static_cast<uint64_t>(*hi);
      b_excl = hi_excl;
    }
    alts.push_back(MagnitudeWithFraction(ir, a, a_excl, b, b_excl));
  }
  // x < 0: "-" magnitude, magnitude in (max(-hi, 0), -lo] with the ends' exclusivity swapped;
  // a magnitude of exactly 0 would be "-0", which is left out.
  if (!lo || *lo < 0) {
    uint64_t a = 0;
    bool a_excl = true;
    if (hi && *hi < 0) {
      a = Abs(*hi);
      a_excl = hi_excl;
    }
    std::optional<uint64_t> b;
    bool b_excl = false;
    if (lo) {
      b = Abs(*lo);
      b_excl = lo_excl;
    }
    alts.push_back(ir->Seq({ir->Literal("-"), MagnitudeWithFraction(ir, a, a_excl, b, b_excl)}));
  }
  return ir->Alt(std::move(alts));
}

}  // namespace ember::grammar
