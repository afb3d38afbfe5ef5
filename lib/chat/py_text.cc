#include "lib/chat/py_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "lib/chat/py_string.h"
#include "lib/tokenizer/utf8.h"

namespace ember::chat {

std::string PyFloatRepr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then Python's layout: positional for decimal exponents in
  // [-4, 16), scientific ("1e-05", "1.5e+16") otherwise.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (!sci.empty() && sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t epos = sci.find('e');
  const int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (size_t i = 0; i < epos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string int_part = digits.substr(0, std::min<size_t>(digits.size(), exp + 1));
      while (static_cast<int>(int_part.size()) < exp + 1) int_part.push_back('0');
      std::string frac = digits.size() > static_cast<size_t>(exp + 1) ? digits.substr(exp + 1) : "0";
      out = int_part + "." + frac;
    } else {
      out = "0." + std::string(-exp - 1, '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += e;
  }
  return sign + out;
}

std::string PyStringRepr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t cp : ToCodePoints(s)) {
    char buf[16];
    if (cp == '\\') out += "\\\\";
    else if (cp == static_cast<char32_t>(quote)) { out += '\\'; out += quote; }
    else if (cp == '\t') out += "\\t";
    else if (cp == '\n') out += "\\n";
    else if (cp == '\r') out += "\\r";
    else if (cp < 0x20 || cp == 0x7F) { std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp)); out += buf; }
    else if (cp < 0x80) out.push_back(static_cast<char>(cp));
    else if (IsPyPrintable(cp)) AppendUtf8(cp, &out);
    else if (cp <= 0xFF) { std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp)); out += buf; }
    else if (cp <= 0xFFFF) { std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp)); out += buf; }
    else { std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp)); out += buf; }
  }
  out.push_back(quote);
  return out;
}

namespace {

void AppendRepr(const Value& v, size_t max_bytes, std::string* out) {
  if (out->size() > max_bytes) return;
  switch (v.kind()) {
    case Value::Kind::kList:
    case Value::Kind::kTuple: {
      const bool tuple = v.is_tuple();
      *out += tuple ? "(" : "[";
      const ValueList& items = v.items();
      for (size_t i = 0; i < items.size() && out->size() <= max_bytes; ++i) {
        if (i) *out += ", ";
        AppendRepr(items[i], max_bytes, out);
      }
      if (tuple && items.size() == 1) *out += ",";
      *out += tuple ? ")" : "]";
      return;
    }
    case Value::Kind::kDict: {
      *out += "{";
      bool first = true;
      for (const auto& [k, val] : v.dict().entries()) {
        if (out->size() > max_bytes) break;
        if (!first) *out += ", ";
        first = false;
        AppendRepr(k, max_bytes, out);
        *out += ": ";
        AppendRepr(val, max_bytes, out);
      }
      *out += "}";
      return;
    }
    default:
      *out += PyRepr(v, max_bytes);
  }
}

}  // namespace

std::string PyStr(const Value& v, size_t max_bytes) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return "";
    case Value::Kind::kString: return v.str();
    case Value::Kind::kObject: return v.object()->Str();
    default: return PyRepr(v, max_bytes);
  }
}

std::string PyRepr(const Value& v, size_t max_bytes) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return "Undefined";
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt: return std::to_string(v.as_int());
    case Value::Kind::kFloat: return PyFloatRepr(v.as_float());
    case Value::Kind::kString:
      return v.safe() ? "Markup(" + PyStringRepr(v.str()) + ")" : PyStringRepr(v.str());
    case Value::Kind::kList:
    case Value::Kind::kTuple:
    case Value::Kind::kDict: {
      std::string out;
      AppendRepr(v, max_bytes, &out);
      return out;
    }
    case Value::Kind::kObject: return v.object()->Str();
    case Value::Kind::kGenerator: return "<generator object>";
  }
  return "";
}

}  // namespace ember::chat
