#include "lib/chat/py_string.h"

#include <algorithm>

#include "lib/tokenizer/utf8.h"
#include "utf8proc.h"

namespace ember::chat {

std::u32string ToCodePoints(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s[0]);
    if (c < 0x80) {
      out.push_back(c);
      s.remove_prefix(1);
      continue;
    }
    Utf8Char ch = DecodeUtf8(s);
    out.push_back(ch.kind == Utf8Char::Kind::kValid ? ch.code_point : kReplacementChar);
    s.remove_prefix(std::max<size_t>(ch.length, 1));
  }
  return out;
}

std::string FromCodePoints(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) {
    if (cp < 0x80) out.push_back(static_cast<char>(cp));
    else AppendUtf8(cp, &out);
  }
  return out;
}

size_t CodePointLength(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // count non-continuation bytes
  }
  return n;
}

bool IsPySpace(char32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E:
    case 0x1F: case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {
utf8proc_category_t Category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}
char32_t Upper(char32_t cp) { return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))); }
char32_t Lower(char32_t cp) { return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))); }
char32_t Title(char32_t cp) { return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp))); }
}  // namespace

bool IsPyAlpha(char32_t cp) {
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}
bool IsPyDigit(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_ND; }
bool IsPyUpper(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_LU || Lower(cp) != cp; }
bool IsPyLower(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_LL || Upper(cp) != cp; }
bool IsPyCased(char32_t cp) {
  const auto c = Category(cp);
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
         Upper(cp) != cp || Lower(cp) != cp;
}
bool IsPyPrintable(char32_t cp) {
  if (cp == ' ') return true;
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

namespace {
template <typename F>
std::string MapCodePoints(std::string_view s, F f) {
  std::u32string cps = ToCodePoints(s);
  for (char32_t& c : cps) c = f(c);
  return FromCodePoints(cps);
}
}  // namespace

std::string PyUpper(std::string_view s) { return MapCodePoints(s, Upper); }
std::string PyLower(std::string_view s) { return MapCodePoints(s, Lower); }
std::string PySwapCase(std::string_view s) {
  return MapCodePoints(s, [](char32_t c) {
    if (Category(c) == UTF8PROC_CATEGORY_LU) return Lower(c);
    if (Category(c) == UTF8PROC_CATEGORY_LL) return Upper(c);
    return c;
  });
}

std::string PyTitle(std::string_view s) {
  std::u32string cps = ToCodePoints(s);
  bool previous_cased = false;
  for (char32_t& c : cps) {
    const char32_t original = c;
    c = previous_cased ? Lower(c) : Title(c);
    previous_cased = IsPyCased(original);
  }
  return FromCodePoints(cps);
}

std::string PyCapitalize(std::string_view s) {
  std::u32string cps = ToCodePoints(s);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? Title(cps[i]) : Lower(cps[i]);
  return FromCodePoints(cps);
}

std::string PyStrip(std::string_view s, const std::string* chars, StripSide side) {
  std::u32string cps = ToCodePoints(s);
  std::u32string set = chars ? ToCodePoints(*chars) : std::u32string();
  auto strip = [&](char32_t c) {
    return chars ? set.find(c) != std::u32string::npos : IsPySpace(c);
  };
  size_t b = 0, e = cps.size();
  if (side != StripSide::kRight) {
    while (b < e && strip(cps[b])) ++b;
  }
  if (side != StripSide::kLeft) {
    while (e > b && strip(cps[e - 1])) --e;
  }
  return FromCodePoints(std::u32string_view(cps).substr(b, e - b));
}

std::vector<std::string> PySplit(std::string_view s, const std::string* sep, int64_t maxsplit,
                                 bool from_right) {
  std::vector<std::string> out;
  if (sep != nullptr) {
    const std::string& d = *sep;
    if (!from_right) {
      size_t pos = 0;
      while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        size_t hit = s.find(d, pos);
        if (hit == std::string_view::npos) break;
        out.emplace_back(s.substr(pos, hit - pos));
        pos = hit + d.size();
      }
      out.emplace_back(s.substr(pos));
      return out;
    }
    size_t end = s.size();
    int64_t splits = 0;
    while (maxsplit < 0 || splits < maxsplit) {
      if (end < d.size()) break;
      size_t hit = s.rfind(d, end - d.size());
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(hit + d.size(), end - hit - d.size()));
      end = hit;
      ++splits;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  // Whitespace runs; no empty strings at either end.
  std::u32string cps = ToCodePoints(s);
  if (!from_right) {
    size_t i = 0, n = cps.size();
    while (true) {
      while (i < n && IsPySpace(cps[i])) ++i;
      if (i >= n) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
        size_t e = n;
        while (e > i && IsPySpace(cps[e - 1])) --e;
        out.push_back(FromCodePoints(std::u32string_view(cps).substr(i, e - i)));
        break;
      }
      size_t j = i;
      while (j < n && !IsPySpace(cps[j])) ++j;
      out.push_back(FromCodePoints(std::u32string_view(cps).substr(i, j - i)));
      i = j;
    }
    return out;
  }
  size_t e = cps.size();
  while (true) {
    while (e > 0 && IsPySpace(cps[e - 1])) --e;
    if (e == 0) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      size_t b = 0;
      while (b < e && IsPySpace(cps[b])) ++b;
      out.push_back(FromCodePoints(std::u32string_view(cps).substr(b, e - b)));
      break;
    }
    size_t b = e;
    while (b > 0 && !IsPySpace(cps[b - 1])) --b;
    out.push_back(FromCodePoints(std::u32string_view(cps).substr(b, e - b)));
    e = b;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> PySplitLines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  std::u32string cps = ToCodePoints(s);
  size_t start = 0, i = 0;
  while (i < cps.size()) {
    const char32_t c = cps[i];
    size_t eol = 0;
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') eol = 2;
    else if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
             c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029) eol = 1;
    if (eol == 0) {
      ++i;
      continue;
    }
    const size_t end = keepends ? i + eol : i;
    out.push_back(FromCodePoints(std::u32string_view(cps).substr(start, end - start)));
    i += eol;
    start = i;
  }
  if (start < cps.size()) out.push_back(FromCodePoints(std::u32string_view(cps).substr(start)));
  return out;
}

std::string PyReplace(std::string_view s, std::string_view old_text, std::string_view new_text,
                      int64_t count) {
  std::string out;
  if (old_text.empty()) {
    // Python inserts `new` before every character and at the end.
    std::u32string cps = ToCodePoints(s);
    int64_t done = 0;
    for (char32_t c : cps) {
      if (count < 0 || done < count) {
        out.append(new_text);
        ++done;
      }
      AppendUtf8(c, &out);
    }
    if (count < 0 || done < count) out.append(new_text);
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(old_text, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(new_text);
    pos = hit + old_text.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

bool PyIndex(int64_t index, int64_t length, int64_t* out) {
  if (index < 0) index += length;
  if (index < 0 || index >= length) return false;
  *out = index;
  return true;
}

std::vector<int64_t> PySliceIndices(const int64_t* start, const int64_t* stop, int64_t step,
                                    int64_t length) {
  std::vector<int64_t> out;
  int64_t b, e;
  if (step > 0) {
    b = start ? *start : 0;
    e = stop ? *stop : length;
    if (b < 0) b = std::max<int64_t>(b + length, 0);
    if (e < 0) e = std::max<int64_t>(e + length, 0);
    b = std::min(b, length);
    e = std::min(e, length);
    for (int64_t i = b; i < e; i += step) out.push_back(i);
  } else {
    b = start ? *start : length - 1;
    e = stop ? *stop : -1;
    if (start && b < 0) b = std::max<int64_t>(b + length, -1);
    if (stop && e < 0) e = std::max<int64_t>(e + length, -1);
    b = std::min(b, length - 1);
    e = std::min(e, length - 1);
    for (int64_t i = b; i > e; i += step) out.push_back(i);
  }
  return out;
}

}  // namespace ember::chat
