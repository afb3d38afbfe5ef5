#include "lib/chat/lexer.h"

#include <cmath>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/chat/py_string.h"
#include "lib/tokenizer/utf8.h"

namespace ember::chat {

namespace {

// str.splitlines() + "\n".join(): every Python line boundary becomes "\n", and one final
// line break disappears (jinja2 with keep_trailing_newline=False).
std::string NormalizeNewlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool ended_with_break = false;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') len = 2;
    else if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E) len = 1;
    else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) len = 2;
    else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
             (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) len = 3;
    if (len) {
      out.push_back('\n');
      i += len;
      ended_with_break = true;
    } else {
      out.push_back(s[i]);
      ++i;
      ended_with_break = false;
    }
  }
  if (ended_with_break) out.pop_back();
  return out;
}

// Length of the Python-whitespace character at s[pos], or 0.
size_t SpaceAt(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  const unsigned char c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) return IsPySpace(c) ? 1 : 0;
  Utf8Char ch = DecodeUtf8(s.substr(pos));
  return ch.kind == Utf8Char::Kind::kValid && IsPySpace(ch.code_point) ? ch.length : 0;
}

size_t SkipSpace(std::string_view s, size_t pos) {
  while (size_t n = SpaceAt(s, pos)) pos += n;
  return pos;
}

// text.rstrip() with Python's whitespace.
std::string_view RStrip(std::string_view text) {
  std::u32string cps = ToCodePoints(text);
  size_t keep_bytes = text.size();
  while (!cps.empty() && IsPySpace(cps.back())) {
    std::string tail = FromCodePoints(std::u32string_view(&cps.back(), 1));
    keep_bytes -= tail.size();
    cps.pop_back();
  }
  return text.substr(0, keep_bytes);
}

bool IsAllSpace(std::string_view s) {
  if (s.empty()) return false;
  for (size_t pos = 0; pos < s.size();) {
    size_t n = SpaceAt(s, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  absl::StatusOr<std::vector<Token>> Run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      size_t tag = FindTagStart(pos);
      if (tag == std::string::npos) {
        EmitData(std::string_view(src_).substr(pos));
        break;
      }
      const char kind = src_[tag + 1];
      size_t after = tag + 2;
      char sign = 0;
      if (after < src_.size() && (src_[after] == '-' || src_[after] == '+')) sign = src_[after++];
      std::string_view text = std::string_view(src_).substr(pos, tag - pos);
      // Raw sections are recognized before anything else, like jinja2's root rule.
      size_t raw_body = kind == '%' ? MatchRawBegin(after) : std::string::npos;
      EmitData(StripBeforeTag(text, sign, kind != '{', line_starting));
      CountLines(text);
      if (raw_body != std::string::npos) {
        EMBER_ASSIGN_OR_RETURN(pos, LexRaw(raw_body, &line_starting));
        continue;
      }
      if (kind == '#') {
        EMBER_ASSIGN_OR_RETURN(pos, SkipComment(after, &line_starting));
        continue;
      }
      EMBER_ASSIGN_OR_RETURN(pos, LexTag(kind == '{', after, &line_starting));
    }
    Token eof;
    eof.kind = TokenKind::kEof;
    eof.line = line_;
    tokens_.push_back(eof);
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t pos) const {
    while (true) {
      pos = src_.find('{', pos);
      if (pos == std::string::npos || pos + 1 >= src_.size()) return std::string::npos;
      const char c = src_[pos + 1];
      if (c == '{' || c == '%' || c == '#') return pos;
      ++pos;
    }
  }

  // jinja2's OptionalLStrip: `-` strips all whitespace before the tag; otherwise, for block
  // and comment tags, lstrip_blocks removes spaces between a line start and the tag.
  std::string_view StripBeforeTag(std::string_view text, char sign, bool lstrip_applies,
                                  bool line_starting) const {
    if (sign == '-') return RStrip(text);
    if (sign == '+' || !lstrip_applies) return text;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if ((l_pos > 0 || line_starting) && IsAllSpace(text.substr(l_pos))) return text.substr(0, l_pos);
    return text;
  }

  // If `{%[-+]` at `after - ...` continues with `\s*raw\s*(-%}\s*|%})`, the position after it.
  size_t MatchRawBegin(size_t after) const {
    size_t p = SkipSpace(src_, after);
    if (src_.compare(p, 3, "raw") != 0) return std::string::npos;
    p = SkipSpace(src_, p + 3);
    if (src_.compare(p, 3, "-%}") == 0) return SkipSpace(src_, p + 3);
    if (src_.compare(p, 2, "%}") == 0) return p + 2;
    return std::string::npos;
  }

  absl::StatusOr<size_t> LexRaw(size_t body, bool* line_starting) {
    // Whether the raw-begin match ended with a newline (only `-%}\s*` can consume one).
    *line_starting = body > 0 && src_[body - 1] == '\n';
    for (size_t p = src_.find("{%", body); p != std::string::npos; p = src_.find("{%", p + 1)) {
      size_t q = p + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q = SkipSpace(src_, q);
      if (src_.compare(q, 6, "endraw") != 0) continue;
      q = SkipSpace(src_, q + 6);
      size_t end;
      if (src_.compare(q, 3, "+%}") == 0) end = q + 3;
      else if (src_.compare(q, 3, "-%}") == 0) end = SkipSpace(src_, q + 3);
      else if (src_.compare(q, 2, "%}") == 0) end = q + 2 + (q + 2 < src_.size() && src_[q + 2] == '\n');
      else continue;
      std::string_view text = std::string_view(src_).substr(body, p - body);
      EmitData(StripBeforeTag(text, sign, true, *line_starting));
      CountLines(std::string_view(src_).substr(body, end - body));
      *line_starting = src_[end - 1] == '\n';
      return end;
    }
    return Error("missing end of raw directive");
  }

  absl::StatusOr<size_t> SkipComment(size_t start, bool* line_starting) {
    const size_t close = src_.find("#}", start);
    if (close == std::string::npos) return Error("missing end of comment tag");
    size_t end = close + 2;
    const char before = close > start ? src_[close - 1] : 0;
    if (before == '-') end = SkipSpace(src_, end);
    else if (before != '+' && end < src_.size() && src_[end] == '\n') ++end;
    CountLines(std::string_view(src_).substr(start, end - start));
    *line_starting = src_[end - 1] == '\n';
    return end;
  }

  absl::StatusOr<size_t> LexTag(bool variable, size_t pos, bool* line_starting) {
    Push(variable ? TokenKind::kVarBegin : TokenKind::kBlockBegin, variable ? "{{" : "{%");
    std::string balance;  // expected closing brackets
    while (true) {
      if (pos >= src_.size()) return Error(variable ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      if (balance.empty()) {
        size_t end = std::string::npos;
        if (variable) {
          if (src_.compare(pos, 3, "-}}") == 0) end = SkipSpace(src_, pos + 3);
          else if (src_.compare(pos, 2, "}}") == 0) end = pos + 2;
        } else {
          if (src_.compare(pos, 3, "-%}") == 0) end = SkipSpace(src_, pos + 3);
          else if (src_.compare(pos, 3, "+%}") == 0) end = pos + 3;
          else if (src_.compare(pos, 2, "%}") == 0) end = pos + 2 + (pos + 2 < src_.size() && src_[pos + 2] == '\n');
        }
        if (end != std::string::npos) {
          Push(variable ? TokenKind::kVarEnd : TokenKind::kBlockEnd, variable ? "}}" : "%}");
          CountLines(std::string_view(src_).substr(pos, end - pos));
          *line_starting = src_[end - 1] == '\n';
          return end;
        }
      }
      if (size_t n = SpaceAt(src_, pos)) {
        if (src_[pos] == '\n') ++line_;
        pos += n;
        continue;
      }
      const char c = src_[pos];
      if (IsDigit(c)) {
        EMBER_ASSIGN_OR_RETURN(pos, LexNumber(pos));
        continue;
      }
      if (IsNameStart(c)) {
        size_t e = pos;
        while (e < src_.size() && IsNameChar(src_[e])) ++e;
        Push(TokenKind::kName, src_.substr(pos, e - pos));
        pos = e;
        continue;
      }
      if (c == '\'' || c == '"') {
        EMBER_ASSIGN_OR_RETURN(pos, LexString(pos));
        continue;
      }
      static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
      std::string op;
      for (std::string_view two : kTwo) {
        if (src_.compare(pos, 2, two) == 0) op = std::string(two);
      }
      if (op.empty() && std::string_view("+-/*%~[](){}><=.:|,;").find(c) != std::string_view::npos) op = std::string(1, c);
      if (op.empty()) return Error(absl::StrCat("unexpected char '", std::string(1, c), "'"));
      if (op == "(") balance.push_back(')');
      else if (op == "[") balance.push_back(']');
      else if (op == "{") balance.push_back('}');
      else if (op == ")" || op == "]" || op == "}") {
        if (balance.empty()) return Error(absl::StrCat("unexpected '", op, "'"));
        if (balance.back() != op[0]) {
          return Error(absl::StrCat("unexpected '", op, "', expected '", std::string(1, balance.back()), "'"));
        }
        balance.pop_back();
      }
      Push(TokenKind::kOp, op);
      pos += op.size();
    }
  }

  // Digits with single underscores between them ((\d+_)*\d+); returns the end.
  size_t ScanDigits(size_t p) const {
    while (p < src_.size() && IsDigit(src_[p])) {
      ++p;
      if (p + 1 < src_.size() && src_[p] == '_' && IsDigit(src_[p + 1])) ++p;
    }
    return p;
  }

  absl::StatusOr<size_t> LexNumber(size_t pos) {
    size_t e = ScanDigits(pos);
    bool is_float = false;
    const bool after_dot = pos > 0 && src_[pos - 1] == '.';
    if (!after_dot) {
      size_t f = e;
      if (f + 1 < src_.size() && src_[f] == '.' && IsDigit(src_[f + 1])) {
        f = ScanDigits(f + 1);
        is_float = true;
      }
      if (f < src_.size() && (src_[f] == 'e' || src_[f] == 'E')) {
        size_t x = f + 1;
        if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
        if (x < src_.size() && IsDigit(src_[x])) {
          f = ScanDigits(x);
          is_float = true;
        }
      }
      if (is_float) e = f;
    }
    std::string text;
    for (size_t i = pos; i < e; ++i) {
      if (src_[i] != '_') text.push_back(src_[i]);
    }
    Token t;
    t.line = line_;
    t.text = text;
    if (is_float) {
      t.kind = TokenKind::kFloat;
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      t.kind = TokenKind::kInt;
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (errno == ERANGE) return Error("integer literal too large: " + text);
      t.int_value = v;
    }
    tokens_.push_back(std::move(t));
    return e;
  }

  // A quoted string; its value decoded like Python's unicode-escape codec.
  absl::StatusOr<size_t> LexString(size_t pos) {
    const char quote = src_[pos];
    std::string value;
    size_t p = pos + 1;
    const int start_line = line_;
    while (true) {
      if (p >= src_.size()) {
        line_ = start_line;
        return Error("unterminated string");
      }
      const char c = src_[p];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\') {
        value.push_back(c);
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) {
        line_ = start_line;
        return Error("unterminated string");
      }
      const char e = src_[p + 1];
      p += 2;
      switch (e) {
        case '\n': ++line_; break;  // line continuation
        case '\\': value.push_back('\\'); break;
        case '\'': value.push_back('\''); break;
        case '"': value.push_back('"'); break;
        case 'a': value.push_back('\a'); break;
        case 'b': value.push_back('\b'); break;
        case 'f': value.push_back('\f'); break;
        case 'n': value.push_back('\n'); break;
        case 'r': value.push_back('\r'); break;
        case 't': value.push_back('\t'); break;
        case 'v': value.push_back('\v'); break;
        case 'x': case 'u': case 'U': {
          const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < digits; ++i, ++p) {
            const char h = p < src_.size() ? src_[p] : 0;
            int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) return Error(absl::StrCat("truncated \\", std::string(1, e), " escape in string"));
            cp = cp * 16 + d;
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return Error("invalid unicode escape in string");
          AppendUtf8(cp, &value);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = e - '0';
            for (int i = 0; i < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++i, ++p) cp = cp * 8 + (src_[p] - '0');
            AppendUtf8(cp, &value);
          } else {
            // Unknown escapes stay as written, as in Python.
            value.push_back('\\');
            --p;
          }
      }
    }
    Token t;
    t.kind = TokenKind::kString;
    t.text = std::move(value);
    t.line = start_line;
    tokens_.push_back(std::move(t));
    return p + 1;
  }

  void EmitData(std::string_view text) {
    if (text.empty()) return;
    Push(TokenKind::kData, std::string(text));
  }

  void Push(TokenKind kind, std::string text) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line_;
    tokens_.push_back(std::move(t));
  }

  void CountLines(std::string_view s) {
    for (char c : s) line_ += c == '\n';
  }

  absl::Status Error(std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("template syntax error (line ", line_, "): ", AV(message)));
  }

  std::string src_;
  std::vector<Token> tokens_;
  int line_ = 1;
};

}  // namespace

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view source) {
  Lexer lexer(NormalizeNewlines(source));
  return lexer.Run();
}

}  // namespace ember::chat
