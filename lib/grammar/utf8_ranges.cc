#include "lib/grammar/utf8_ranges.h"

#include <algorithm>
#include <utility>

namespace ember::grammar {

namespace {

int EncodedLength(char32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }
constexpr char32_t kLengthEnds[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};

void Encode(char32_t cp, int n, uint8_t* out) {
  if (n == 1) {
    out[0] = static_cast<uint8_t>(cp);
    return;
  }
  for (int i = n - 1; i > 0; --i) {
    out[i] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    cp >>= 6;
  }
  static constexpr uint8_t kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  out[0] = static_cast<uint8_t>(kLead[n] | cp);
}

// [lo, hi] with both ends of the same encoded length n. Splits until every continuation
// byte position either spans the same prefix or the full 0x80..0xBF range, at which point
// the sequence of per-byte ranges covers exactly [lo, hi].
void SplitSameLength(char32_t lo, char32_t hi, int n, std::vector<std::vector<ByteRange>>* out) {
  for (int i = 1; i < n; ++i) {
    const char32_t m = (char32_t{1} << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        SplitSameLength(lo, lo | m, n, out);
        SplitSameLength((lo | m) + 1, hi, n, out);
        return;
      }
      if ((hi & m) != m) {
        SplitSameLength(lo, (hi & ~m) - 1, n, out);
        SplitSameLength(hi & ~m, hi, n, out);
        return;
      }
    }
  }
  uint8_t a[4], b[4];
  Encode(lo, n, a);
  Encode(hi, n, b);
  std::vector<ByteRange> seq(n);
  for (int i = 0; i < n; ++i) seq[i] = {a[i], b[i]};
  out->push_back(std::move(seq));
}

}  // namespace

std::vector<std::vector<ByteRange>> Utf8Sequences(const std::vector<CodeRange>& ranges) {
  std::vector<std::vector<ByteRange>> out;
  for (CodeRange r : ranges) {
    char32_t lo = r.lo;
    while (lo <= r.hi) {
      const int n = EncodedLength(lo);
      const char32_t hi = std::min(r.hi, kLengthEnds[n - 1]);
      SplitSameLength(lo, hi, n, &out);
      if (hi == r.hi) break;
      lo = hi + 1;
    }
  }
  return out;
}

}  // namespace ember::grammar
