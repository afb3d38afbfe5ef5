#include "lib/grammar/json_escapes.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ember::grammar {

namespace {

constexpr char32_t kSurrogateLo = 0xD800, kSurrogateHi = 0xDFFF;
constexpr char32_t kHighSurrogate = 0xD800, kLowSurrogate = 0xDC00;

// One hex digit whose value is in [lo, hi], either case.
int32_t HexDigits(GrammarIr* ir, uint32_t lo, uint32_t hi) {
  std::vector<CodeRange> r;
  if (lo <= 9) r.push_back({char32_t('0' + lo), char32_t('0' + std::min<uint32_t>(hi, 9))});
  if (hi >= 10) {
    const uint32_t a = std::max<uint32_t>(lo, 10) - 10, b = hi - 10;
    r.push_back({char32_t('a' + a), char32_t('a' + b)});
    r.push_back({char32_t('A' + a), char32_t('A' + b)});
  }
  return ir->Class(std::move(r));
}

// `width` hex digits spelling a value in [lo, hi] (lo <= hi < 16^width).
int32_t HexRange(GrammarIr* ir, uint32_t lo, uint32_t hi, int width) {
  if (width == 0) return ir->Empty();
  const uint32_t unit = 1u << (4 * (width - 1));  // the value of one step of the first digit
  if (lo == 0 && hi == unit * 16 - 1) return ir->Repeat(HexDigits(ir, 0, 15), width, width);
  const uint32_t first_lo = lo / unit, first_hi = hi / unit;
  const uint32_t rest_lo = lo % unit, rest_hi = hi % unit;
  if (first_lo == first_hi) return ir->Seq({HexDigits(ir, first_lo, first_lo), HexRange(ir, rest_lo, rest_hi, width - 1)});
  std::vector<int32_t> alts;
  uint32_t full_lo = first_lo, full_hi = first_hi;
  if (rest_lo != 0) {
    alts.push_back(ir->Seq({HexDigits(ir, first_lo, first_lo), HexRange(ir, rest_lo, unit - 1, width - 1)}));
    ++full_lo;
  }
  if (rest_hi != unit - 1) {
    alts.push_back(ir->Seq({HexDigits(ir, first_hi, first_hi), HexRange(ir, 0, rest_hi, width - 1)}));
    --full_hi;
  }
  if (full_lo <= full_hi) alts.push_back(ir->Seq({HexDigits(ir, full_lo, full_hi), HexRange(ir, 0, unit - 1, width - 1)}));
  return ir->Alt(std::move(alts));
}

int32_t Escape(GrammarIr* ir, uint32_t lo, uint32_t hi) {
  return ir->Seq({ir->Literal("\\u"), HexRange(ir, lo, hi, 4)});
}

// Astral code points lo..hi (offsets from U+10000) as surrogate pairs.
void AddPairs(GrammarIr* ir, uint32_t lo, uint32_t hi, std::vector<int32_t>* alts) {
  const uint32_t high_lo = lo >> 10, high_hi = hi >> 10, low_lo = lo & 0x3FF, low_hi = hi & 0x3FF;
  auto pair = [&](uint32_t h1, uint32_t h2, uint32_t l1, uint32_t l2) {
    alts->push_back(ir->Seq({Escape(ir, kHighSurrogate + h1, kHighSurrogate + h2), Escape(ir, kLowSurrogate + l1, kLowSurrogate + l2)}));
  };
  if (high_lo == high_hi) {
    pair(high_lo, high_lo, low_lo, low_hi);
    return;
  }
  pair(high_lo, high_lo, low_lo, 0x3FF);
  if (high_hi - high_lo > 1) pair(high_lo + 1, high_hi - 1, 0, 0x3FF);
  pair(high_hi, high_hi, 0, low_hi);
}

}  // namespace

int32_t UnicodeEscapeExpr(GrammarIr* ir, const std::vector<CodeRange>& ranges) {
  std::vector<int32_t> alts;
  for (const CodeRange& r : NormalizeRanges(ranges)) {
    // The Basic Multilingual Plane, around the surrogates.
    if (r.lo <= 0xFFFF) {
      const uint32_t hi = std::min<uint32_t>(r.hi, 0xFFFF);
      if (r.lo < kSurrogateLo) alts.push_back(Escape(ir, r.lo, std::min<uint32_t>(hi, kSurrogateLo - 1)));
      if (hi > kSurrogateHi) alts.push_back(Escape(ir, std::max<uint32_t>(r.lo, kSurrogateHi + 1), hi));
    }
    if (r.hi >= 0x10000) AddPairs(ir, std::max<uint32_t>(r.lo, 0x10000) - 0x10000, r.hi - 0x10000, &alts);
  }
  return ir->Alt(std::move(alts));
}

}  // namespace ember::grammar
