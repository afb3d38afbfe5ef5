#include "lib/grammar/regex.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/grammar/limits.h"
#include "lib/tokenizer/utf8.h"
#include "utf8proc.h"

namespace ember::grammar {

namespace {

const std::vector<CodeRange>& Digits() {
  static const std::vector<CodeRange> r = {{'0', '9'}};
  return r;
}
const std::vector<CodeRange>& WordChars() {
  static const std::vector<CodeRange> r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return r;
}
// \s: ASCII whitespace, which both Python and ECMA count as whitespace.
const std::vector<CodeRange>& AsciiSpace() {
  static const std::vector<CodeRange> r = {{'\t', '\r'}, {' ', ' '}};
  return r;
}
// \S: everything that neither Python nor ECMA counts as whitespace.
const std::vector<CodeRange>& NotSpace() {
  static const std::vector<CodeRange> r = ComplementRanges(
      {{'\t', '\r'}, {0x1C, 0x20}, {0x85, 0x85}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
       {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}});
  return r;
}
// Decimal digits of every script (Python's \d is Unicode category Nd).
const std::vector<CodeRange>& AllDigits() {
  static const std::vector<CodeRange> r = [] {
    std::vector<CodeRange> nd;
    for (char32_t cp = 0; cp <= kMaxCodePoint; ++cp) {
      if (utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ND) {
        if (!nd.empty() && nd.back().hi + 1 == cp) {
          nd.back().hi = cp;
        } else {
          nd.push_back({cp, cp});
        }
      }
    }
    return nd;
  }();
  return r;
}
// \D: not a decimal digit in any script.
const std::vector<CodeRange>& NotDigit() {
  static const std::vector<CodeRange> r = ComplementRanges(AllDigits());
  return r;
}
// Wide readings, used inside negated classes (whose complement must stay narrow).
const std::vector<CodeRange>& WordOrNonAscii() {
  static const std::vector<CodeRange> r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}, {0x80, kMaxCodePoint}};
  return r;
}
const std::vector<CodeRange>& AnySpace() {
  static const std::vector<CodeRange> r = ComplementRanges(NotSpace());
  return r;
}
const std::vector<CodeRange>& NotAsciiDigit() {
  static const std::vector<CodeRange> r = ComplementRanges(Digits());
  return r;
}
const std::vector<CodeRange>& NotAsciiWord() {
  static const std::vector<CodeRange> r = ComplementRanges(WordChars());
  return r;
}
const std::vector<CodeRange>& NotAsciiSpace() {
  static const std::vector<CodeRange> r = ComplementRanges(AsciiSpace());
  return r;
}
// \W: ASCII non-word characters only (Python's \w also covers letters of every script).
const std::vector<CodeRange>& NotWordAscii() {
  static const std::vector<CodeRange> r = {{0, '/'}, {':', '@'}, {'[', '^'}, {'`', '`'}, {'{', 0x7F}};
  return r;
}
// `.`: any character but the line terminators of either dialect.
const std::vector<CodeRange>& Dot() {
  static const std::vector<CodeRange> r = ComplementRanges({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}});
  return r;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class RegexParser {
 public:
  RegexParser(std::string_view p, const CharEmitter& emit, GrammarIr* ir) : p_(p), emit_(emit), ir_(ir) {}

  absl::Status Parse(int32_t* out) {
    // Top level: alternatives, each with optional ^ and $ at its ends.
    std::vector<int32_t> alts;
    while (true) {
      bool anchored_start = false, anchored_end = false;
      if (pos_ < p_.size() && p_[pos_] == '^') {
        anchored_start = true;
        ++pos_;
      }
      int32_t seq = -1;
      absl::Status st = ParseSequence(0, &seq, &anchored_end);
      if (!st.ok()) return st;
      std::vector<int32_t> items;
      if (!anchored_start) items.push_back(ir_->Star(emit_({{0, kMaxCodePoint}})));
      items.push_back(seq);
      if (!anchored_end) items.push_back(ir_->Star(emit_({{0, kMaxCodePoint}})));
      alts.push_back(ir_->Seq(std::move(items)));
      if (pos_ < p_.size() && p_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    if (pos_ != p_.size()) return Error("unbalanced ')'");
    *out = ir_->Alt(std::move(alts));
    return absl::OkStatus();
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("pattern: ", std::string(what), " at offset ", pos_));
  }

  absl::Status ParseAlternatives(int depth, int32_t* out) {
    if (depth > kMaxNestingDepth) return Error("groups nested too deeply");
    std::vector<int32_t> alts;
    while (true) {
      int32_t seq = -1;
      absl::Status st = ParseSequence(depth, &seq, nullptr);
      if (!st.ok()) return st;
      alts.push_back(seq);
      if (pos_ < p_.size() && p_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    *out = ir_->Alt(std::move(alts));
    return absl::OkStatus();
  }

  // `anchored_end` non-null at the top level, where a final `$` is allowed.
  absl::Status ParseSequence(int depth, int32_t* out, bool* anchored_end) {
    std::vector<int32_t> items;
    while (pos_ < p_.size()) {
      const char c = p_[pos_];
      if (c == '|' || c == ')') break;
      if (c == '$') {
        if (anchored_end != nullptr && (pos_ + 1 == p_.size() || p_[pos_ + 1] == '|')) {
          *anchored_end = true;
          ++pos_;
          break;
        }
        return Error("'$' inside the pattern is unsupported");
      }
      if (c == '^') return Error("'^' inside the pattern is unsupported");
      int32_t atom = -1;
      absl::Status st = ParseAtom(depth, &atom);
      if (!st.ok()) return st;
      st = ParseQuantifiers(&atom);
      if (!st.ok()) return st;
      items.push_back(atom);
    }
    *out = ir_->Seq(std::move(items));
    return absl::OkStatus();
  }

  absl::Status ParseQuantifiers(int32_t* atom) {
    for (int n = 0; pos_ < p_.size(); ++n) {
      const char c = p_[pos_];
      if (n > 0) {
        if (c == '*' || c == '+' || c == '?') return Error("nested quantifier");
        return absl::OkStatus();
      }
      uint32_t min = 0, max = 0;
      if (c == '*') {
        min = 0, max = kUnbounded;
        ++pos_;
      } else if (c == '+') {
        min = 1, max = kUnbounded;
        ++pos_;
      } else if (c == '?') {
        min = 0, max = 1;
        ++pos_;
      } else if (c == '{') {
        size_t save = pos_;
        if (!ParseBraces(&min, &max)) {
          pos_ = save;  // not a quantifier: a literal '{' (both dialects allow it)
          return absl::OkStatus();
        }
        if (max < min) return Error("quantifier {m,n} with n < m");
        if (min > kMaxRepeatBound || (max != kUnbounded && max > kMaxRepeatBound)) {
          return Error("quantifier count too large");
        }
      } else {
        return absl::OkStatus();
      }
      if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy: same language
      if (pos_ < p_.size() && p_[pos_] == '+') return Error("possessive quantifiers are unsupported");
      *atom = ir_->Repeat(*atom, min, max);
    }
    return absl::OkStatus();
  }

  bool ParseNumber(uint32_t* v) {
    const size_t start = pos_;
    uint64_t x = 0;
    while (pos_ < p_.size() && p_[pos_] >= '0' && p_[pos_] <= '9') {
      x = std::min<uint64_t>(x * 10 + static_cast<uint64_t>(p_[pos_] - '0'), 0xFFFFFFFEu);
      ++pos_;
    }
    *v = static_cast<uint32_t>(x);
    return pos_ > start;
  }

  bool ParseBraces(uint32_t* min, uint32_t* max) {
    ++pos_;  // '{'
    if (!ParseNumber(min)) return false;
    *max = *min;
    if (pos_ < p_.size() && p_[pos_] == ',') {
      ++pos_;
      if (!ParseNumber(max)) *max = kUnbounded;
    }
    if (pos_ >= p_.size() || p_[pos_] != '}') return false;
    ++pos_;
    return true;
  }

  absl::Status ParseAtom(int depth, int32_t* out) {
    const char c = p_[pos_];
    if (c == '(') {
      ++pos_;
      if (pos_ < p_.size() && p_[pos_] == '?') {
        if (p_.substr(pos_, 2) == "?:") {
          pos_ += 2;
        } else if (p_.substr(pos_, 2) == "?<" && p_.substr(pos_, 3) != "?<=" && p_.substr(pos_, 3) != "?<!") {
          const size_t close = p_.find('>', pos_);
          if (close == std::string_view::npos) return Error("unterminated group name");
          pos_ = close + 1;
        } else if (p_.substr(pos_, 3) == "?P<") {
          const size_t close = p_.find('>', pos_);
          if (close == std::string_view::npos) return Error("unterminated group name");
          pos_ = close + 1;
        } else {
          return Error("lookaround, flags and other (? groups are unsupported");
        }
      }
      absl::Status st = ParseAlternatives(depth + 1, out);
      if (!st.ok()) return st;
      if (pos_ >= p_.size() || p_[pos_] != ')') return Error("missing ')'");
      ++pos_;
      return absl::OkStatus();
    }
    if (c == '[') return ParseClass(out);
    if (c == '.') {
      ++pos_;
      *out = emit_(Dot());
      return absl::OkStatus();
    }
    if (c == '*' || c == '+' || c == '?') return Error("quantifier without an operand");
    std::vector<CodeRange> ranges;
    absl::Status st = ParseCharOrEscape(false, false, &ranges);
    if (!st.ok()) return st;
    *out = emit_(ranges);
    return absl::OkStatus();
  }

  // One character or escape (outside or inside a class) as the set of code points it
  // stands for. `wide`: inside a negated class, where \d \w \s take their widest reading
  // (and \D \W \S their ASCII-complement one) so that the complement stays narrow.
  absl::Status ParseCharOrEscape(bool in_class, bool wide, std::vector<CodeRange>* out) {
    if (p_[pos_] != '\\') {
      Utf8Char ch = DecodeUtf8(p_.substr(pos_));
      if (ch.kind != Utf8Char::Kind::kValid) return Error("invalid UTF-8");
      pos_ += ch.length;
      out->push_back({ch.code_point, ch.code_point});
      return absl::OkStatus();
    }
    if (pos_ + 1 >= p_.size()) return Error("trailing backslash");
    const char e = p_[pos_ + 1];
    pos_ += 2;
    auto add = [&](const std::vector<CodeRange>& r) { out->insert(out->end(), r.begin(), r.end()); };
    switch (e) {
      case 'd': add(wide ? AllDigits() : Digits()); return absl::OkStatus();
      case 'D': add(wide ? NotAsciiDigit() : NotDigit()); return absl::OkStatus();
      case 'w': add(wide ? WordOrNonAscii() : WordChars()); return absl::OkStatus();
      case 'W': add(wide ? NotAsciiWord() : NotWordAscii()); return absl::OkStatus();
      case 's': add(wide ? AnySpace() : AsciiSpace()); return absl::OkStatus();
      case 'S': add(wide ? NotAsciiSpace() : NotSpace()); return absl::OkStatus();
      case 'n': out->push_back({'\n', '\n'}); return absl::OkStatus();
      case 'r': out->push_back({'\r', '\r'}); return absl::OkStatus();
      case 't': out->push_back({'\t', '\t'}); return absl::OkStatus();
      case 'f': out->push_back({'\f', '\f'}); return absl::OkStatus();
      case 'v': out->push_back({'\v', '\v'}); return absl::OkStatus();
      case '0': out->push_back({0, 0}); return absl::OkStatus();
      case 'b':
        if (in_class) {
          out->push_back({'\b', '\b'});
          return absl::OkStatus();
        }
        return Error("word boundaries (\\b) are unsupported");
      case 'x': case 'u': {
        const int digits = e == 'x' ? 2 : 4;
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
          const int h = pos_ < p_.size() ? Hex(p_[pos_]) : -1;
          if (h < 0) return Error("bad hex escape");
          v = v * 16 + static_cast<uint32_t>(h);
          ++pos_;
        }
        if (v >= 0xD800 && v <= 0xDFFF) return Error("surrogate escapes are unsupported");
        out->push_back({v, v});
        return absl::OkStatus();
      }
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '1' && e <= '9')) {
          return Error(absl::StrCat("escape '\\", std::string(1, e), "' is unsupported"));
        }
        // Escaped punctuation (or a UTF-8 lead byte: the character itself).
        --pos_;
        {
          Utf8Char ch = DecodeUtf8(p_.substr(pos_));
          if (ch.kind != Utf8Char::Kind::kValid) return Error("invalid UTF-8");
          pos_ += ch.length;
          out->push_back({ch.code_point, ch.code_point});
        }
        return absl::OkStatus();
    }
  }

  absl::Status ParseClass(int32_t* out) {
    ++pos_;  // '['
    bool negated = false;
    if (pos_ < p_.size() && p_[pos_] == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CodeRange> ranges;
    bool first = true;
    while (true) {
      if (pos_ >= p_.size()) return Error("unterminated character class");
      if (p_[pos_] == ']' && !first) break;
      if (p_[pos_] == ']' && first) return Error("empty character class");
      first = false;
      if (p_[pos_] == '[' && pos_ + 1 < p_.size() && (p_[pos_ + 1] == ':' || p_[pos_ + 1] == '=')) {
        return Error("POSIX classes are unsupported");
      }
      std::vector<CodeRange> lo;
      absl::Status st = ParseCharOrEscape(true, negated, &lo);
      if (!st.ok()) return st;
      if (lo.size() == 1 && lo[0].lo == lo[0].hi && pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        std::vector<CodeRange> hi;
        st = ParseCharOrEscape(true, negated, &hi);
        if (!st.ok()) return st;
        if (hi.size() != 1 || hi[0].lo != hi[0].hi) return Error("class range with a class bound");
        if (hi[0].lo < lo[0].lo) return Error("reversed class range");
        ranges.push_back({lo[0].lo, hi[0].lo});
      } else {
        ranges.insert(ranges.end(), lo.begin(), lo.end());
      }
    }
    ++pos_;  // ']'
    if (negated) ranges = ComplementRanges(ranges);
    *out = emit_(NormalizeRanges(ranges));
    return absl::OkStatus();
  }

  std::string_view p_;
  const CharEmitter& emit_;
  GrammarIr* ir_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status RegexToGrammar(std::string_view pattern, const CharEmitter& emit, GrammarIr* ir, int32_t* out) {
  return RegexParser(pattern, emit, ir).Parse(out);
}

}  // namespace ember::grammar
