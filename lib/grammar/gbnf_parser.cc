#include "lib/grammar/gbnf_parser.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/grammar/limits.h"
#include "lib/tokenizer/utf8.h"

namespace ember::grammar {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class GbnfParser {
 public:
  GbnfParser(std::string_view text, GrammarIr* ir) : text_(text), ir_(ir) {
    for (size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  absl::Status Parse() {
    SkipSpace();
    while (pos_ < text_.size()) {
      const size_t rule_start = pos_;
      std::string name = ParseName();
      if (name.empty()) return Error("expected a rule name");
      SkipSpace();
      if (text_.substr(pos_, 3) != "::=") return Error("expected '::=' after the rule name");
      pos_ += 3;
      const int32_t rule = ir_->RuleId(name, Where(rule_start));
      if (ir_->rule(rule).body >= 0) return ErrorAt(rule_start, absl::StrCat("rule '", name, "' is defined twice"));
      if (++n_rules_ > kMaxRules) return Error(absl::StrCat("more than ", kMaxRules, " rules"));
      int32_t body = -1;
      absl::Status st = ParseAlternatives(0, &body);
      if (!st.ok()) return st;
      ir_->Define(rule, body);
      SkipSpace();
      if (pos_ < text_.size() && !AtRuleStart()) return Error("unexpected character");
    }
    for (int32_t r = 0; r < ir_->n_rules(); ++r) {
      const Rule& rule = ir_->rule(r);
      if (rule.body < 0) {
        return absl::InvalidArgumentError(absl::StrCat(rule.where, ": undefined rule '", rule.name, "'"));
      }
    }
    if (n_rules_ == 0) return absl::InvalidArgumentError("line 1, column 1: the grammar has no rules");
    int32_t root = -1;
    for (int32_t r = 0; r < ir_->n_rules(); ++r) {
      if (ir_->rule(r).name == "root") root = r;
    }
    if (root < 0) return absl::InvalidArgumentError("the grammar has no 'root' rule");
    ir_->set_root(root);
    return absl::OkStatus();
  }

 private:
  std::string Where(size_t at) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
    return absl::StrCat("line ", line, ", column ", at - line_starts_[line - 1] + 1);
  }
  absl::Status ErrorAt(size_t at, std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(Where(at), ": ", absl::string_view(message.data(), message.size())));
  }
  absl::Status Error(std::string_view message) const { return ErrorAt(pos_, message); }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string ParseName() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // Whether `name ::=` starts at pos_ (the end of the current rule).
  bool AtRuleStart() const {
    size_t p = pos_;
    while (p < text_.size() && IsNameChar(text_[p])) ++p;
    if (p == pos_) return false;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    return text_.substr(p, 3) == "::=";
  }

  absl::Status ParseAlternatives(int depth, int32_t* out) {
    if (depth > kMaxNestingDepth) return Error(absl::StrCat("nesting deeper than ", kMaxNestingDepth));
    std::vector<int32_t> alts;
    while (true) {
      int32_t seq = -1;
      absl::Status st = ParseSequence(depth, &seq);
      if (!st.ok()) return st;
      alts.push_back(seq);
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    *out = ir_->Alt(std::move(alts));
    return absl::OkStatus();
  }

  absl::Status ParseSequence(int depth, int32_t* out) {
    std::vector<int32_t> items;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size()) break;
      const char c = text_[pos_];
      if (c == '|' || c == ')' || AtRuleStart()) break;
      const size_t start = pos_;
      int32_t item = -1;
      if (c == '"') {
        absl::Status st = ParseLiteral(&item);
        if (!st.ok()) return st;
      } else if (c == '[') {
        absl::Status st = ParseClass(&item);
        if (!st.ok()) return st;
      } else if (c == '.') {
        ++pos_;
        item = ir_->Class({{0, kMaxCodePoint}});
      } else if (c == '(') {
        ++pos_;
        absl::Status st = ParseAlternatives(depth + 1, &item);
        if (!st.ok()) return st;
        SkipSpace();
        if (pos_ >= text_.size() || text_[pos_] != ')') return ErrorAt(start, "unclosed '('");
        ++pos_;
      } else if (IsNameChar(c)) {
        std::string name = ParseName();
        item = ir_->Ref(ir_->RuleId(name, Where(start)));
      } else {
        return Error(absl::StrCat("unexpected character '", std::string(1, c), "'"));
      }
      absl::Status st = ParsePostfix(&item);
      if (!st.ok()) return st;
      items.push_back(item);
    }
    *out = ir_->Seq(std::move(items));
    return absl::OkStatus();
  }

  absl::Status ParsePostfix(int32_t* item) {
    for (int n = 0; pos_ < text_.size(); ++n) {
      if (n > kMaxNestingDepth) return Error(absl::StrCat("more than ", kMaxNestingDepth, " repetition operators in a row"));
      const char c = text_[pos_];
      if (c == '*') {
        *item = ir_->Star(*item);
      } else if (c == '+') {
        *item = ir_->Repeat(*item, 1, kUnbounded);
      } else if (c == '?') {
        *item = ir_->Optional(*item);
      } else if (c == '{') {
        const size_t start = pos_;
        ++pos_;
        uint32_t min = 0, max = 0;
        if (!ParseCount(&min)) return ErrorAt(start, "expected a number after '{'");
        max = min;
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          SkipInlineSpace();
          if (pos_ < text_.size() && text_[pos_] == '}') {
            max = kUnbounded;
          } else if (!ParseCount(&max)) {
            return ErrorAt(start, "expected a number or '}' after ','");
          }
        }
        if (pos_ >= text_.size() || text_[pos_] != '}') return ErrorAt(start, "expected '}'");
        if (max < min) return ErrorAt(start, "repetition {m,n} with n < m");
        if (min > kMaxRepeatBound || (max != kUnbounded && max > kMaxRepeatBound)) {
          return ErrorAt(start, absl::StrCat("repetition count exceeds the limit of ", kMaxRepeatBound));
        }
        *item = ir_->Repeat(*item, min, max);
      } else {
        break;
      }
      ++pos_;
    }
    return absl::OkStatus();
  }

  void SkipInlineSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  bool ParseCount(uint32_t* out) {
    SkipInlineSpace();
    const size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      v = v * 10 + static_cast<uint64_t>(text_[pos_] - '0');
      if (v > 0xFFFFFFFEu) v = 0xFFFFFFFEu;
      ++pos_;
    }
    SkipInlineSpace();
    *out = static_cast<uint32_t>(v);
    return pos_ > start;
  }

  // One character of a literal or class at pos_ (after the caller checked it is not the
  // closing delimiter): an escape or a UTF-8 character.
  absl::Status ParseChar(char32_t* cp) {
    const size_t start = pos_;
    const char c = text_[pos_];
    if (c != '\\') {
      Utf8Char ch = DecodeUtf8(text_.substr(pos_));
      if (ch.kind != Utf8Char::Kind::kValid) return Error("invalid UTF-8");
      pos_ += ch.length;
      *cp = ch.code_point;
      return absl::OkStatus();
    }
    if (pos_ + 1 >= text_.size()) return Error("unfinished escape");
    const char e = text_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case 'n': *cp = '\n'; return absl::OkStatus();
      case 'r': *cp = '\r'; return absl::OkStatus();
      case 't': *cp = '\t'; return absl::OkStatus();
      case '\\': case '"': case '\'': case '[': case ']': case '-': case '/': case '^':
        *cp = static_cast<unsigned char>(e);
        return absl::OkStatus();
      case 'x': case 'u': case 'U': {
        const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
          const int h = pos_ < text_.size() ? HexValue(text_[pos_]) : -1;
          if (h < 0) return ErrorAt(start, absl::StrCat("\\", std::string(1, e), " needs ", digits, " hex digits"));
          v = v * 16 + static_cast<uint32_t>(h);
          ++pos_;
        }
        if (v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF)) {
          return ErrorAt(start, "escape is not a Unicode scalar value");
        }
        *cp = v;
        return absl::OkStatus();
      }
      default:
        return ErrorAt(start, absl::StrCat("unknown escape '\\", std::string(1, e), "'"));
    }
  }

  absl::Status ParseLiteral(int32_t* out) {
    const size_t start = pos_;
    ++pos_;
    std::string bytes;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') return ErrorAt(start, "unterminated string literal");
      if (text_[pos_] == '"') break;
      char32_t cp = 0;
      absl::Status st = ParseChar(&cp);
      if (!st.ok()) return st;
      AppendUtf8(cp, &bytes);
    }
    ++pos_;
    *out = ir_->Literal(bytes);
    return absl::OkStatus();
  }

  absl::Status ParseClass(int32_t* out) {
    const size_t start = pos_;
    ++pos_;
    bool negated = false;
    if (pos_ < text_.size() && text_[pos_] == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CodeRange> ranges;
    while (true) {
      if (pos_ >= text_.size()) return ErrorAt(start, "unterminated character class");
      if (text_[pos_] == ']') break;
      char32_t lo = 0, hi = 0;
      absl::Status st = ParseChar(&lo);
      if (!st.ok()) return st;
      hi = lo;
      if (pos_ + 1 < text_.size() && text_[pos_] == '-' && text_[pos_ + 1] != ']') {
        ++pos_;
        st = ParseChar(&hi);
        if (!st.ok()) return st;
        if (hi < lo) return ErrorAt(start, "character range is reversed");
      }
      ranges.push_back({lo, hi});
    }
    ++pos_;
    if (negated) ranges = ComplementRanges(ranges);
    if (NormalizeRanges(ranges).empty()) return ErrorAt(start, "character class matches no character");
    *out = ir_->Class(std::move(ranges));
    return absl::OkStatus();
  }

  std::string_view text_;
  GrammarIr* ir_;
  size_t pos_ = 0;
  int32_t n_rules_ = 0;
  std::vector<size_t> line_starts_ = {0};
};

}  // namespace

absl::Status ParseGbnf(std::string_view text, GrammarIr* ir) {
  if (text.size() > kMaxGrammarTextBytes) {
    return absl::InvalidArgumentError(absl::StrCat("grammar exceeds ", kMaxGrammarTextBytes, " bytes"));
  }
  return GbnfParser(text, ir).Parse();
}

}  // namespace ember::grammar
