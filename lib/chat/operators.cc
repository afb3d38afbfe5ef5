#include "lib/chat/operators.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "lib/base/errors.h"
#include "lib/chat/interpreter.h"
#include "lib/chat/py_string.h"
#include "lib/chat/py_text.h"

namespace ember::chat {

namespace {

absl::Status TypeError(std::string_view op, const Value& a, const Value& b) {
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  return absl::InvalidArgumentError("unsupported operand type(s) for " + std::string(op) + ": '" +
                                    a.TypeName() + "' and '" + b.TypeName() + "'");
}

absl::Status Overflow() { return absl::InvalidArgumentError("integer overflow"); }
absl::Status ZeroDivision() { return absl::InvalidArgumentError("division by zero"); }

absl::StatusOr<Value> Repeat(Interpreter& interp, const Value& seq, int64_t n) {
  if (seq.is_string() ? seq.str().empty() : seq.items().empty()) n = 0;  // nothing to repeat
  if (n <= 0) return seq.is_string() ? Value::String("", seq.safe()) : seq.is_tuple() ? Value::Tuple({}) : Value::List({});
  if (seq.is_string()) {
    if (seq.str().size() != 0 && static_cast<uint64_t>(n) > interp.limits().max_output_bytes / seq.str().size()) {
      return interp.CheckStringSize(interp.limits().max_output_bytes + 1);
    }
    std::string out;
    out.reserve(seq.str().size() * n);
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::String(std::move(out), seq.safe());
  }
  const ValueList& items = seq.items();
  if (!items.empty() && static_cast<uint64_t>(n) > interp.limits().max_list_items / items.size()) {
    return interp.CheckListSize(interp.limits().max_list_items + 1);
  }
  ValueList out;
  out.reserve(items.size() * n);
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
}

double PyFloatMod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  if (r == 0) r = std::copysign(0.0, b);
  return r;
}

absl::StatusOr<Value> Arithmetic(std::string_view op, const Value& a, const Value& b) {
  const bool ints = !a.is_float() && !b.is_float();
  if (ints) {
    const int64_t x = a.as_int(), y = b.as_int();
    int64_t r = 0;
    if (op == "+") {
      if (__builtin_add_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    }
    if (op == "-") {
      if (__builtin_sub_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    }
    if (op == "*") {
      if (__builtin_mul_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    }
    if (op == "/") {
      if (y == 0) return ZeroDivision();
      return Value::Float(static_cast<double>(x) / static_cast<double>(y));
    }
    if (op == "//" || op == "%") {
      if (y == 0) return absl::InvalidArgumentError("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) return Overflow();
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::Int(op == "//" ? q : m);
    }
    if (op == "**") {
      if (y < 0) {
        if (x == 0) return absl::InvalidArgumentError("0.0 cannot be raised to a negative power");
        return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
      }
      int64_t result = 1, base = x, e = y;
      while (e > 0) {
        if (e & 1) {
          if (__builtin_mul_overflow(result, base, &result)) return Overflow();
        }
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base)) return Overflow();
      }
      return Value::Int(result);
    }
  }
  const double x = a.as_float(), y = b.as_float();
  if (op == "+") return Value::Float(x + y);
  if (op == "-") return Value::Float(x - y);
  if (op == "*") return Value::Float(x * y);
  if (op == "/") {
    if (y == 0) return absl::InvalidArgumentError("float division by zero");
    return Value::Float(x / y);
  }
  if (op == "//") {
    if (y == 0) return absl::InvalidArgumentError("float floor division by zero");
    return Value::Float(std::floor(x / y));
  }
  if (op == "%") {
    if (y == 0) return absl::InvalidArgumentError("float modulo");
    return Value::Float(PyFloatMod(x, y));
  }
  if (op == "**") {
    if (x == 0 && y < 0) return absl::InvalidArgumentError("0.0 cannot be raised to a negative power");
    if (x < 0 && y != std::floor(y)) return absl::InvalidArgumentError("negative number cannot be raised to a fractional power");
    return Value::Float(std::pow(x, y));
  }
  return absl::InvalidArgumentError("unknown operator " + std::string(op));
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<Value> BinaryOp(Interpreter& interp, std::string_view op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = PyStr(a, interp.limits().max_output_bytes);
    std::string t = PyStr(b, interp.limits().max_output_bytes);
    EMBER_RETURN_IF_ERROR(interp.CheckStringSize(s.size() + t.size()));
    return Value::String(s + t);
  }
  if (a.is_number() && b.is_number()) return Arithmetic(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      EMBER_RETURN_IF_ERROR(interp.CheckStringSize(a.str().size() + b.str().size()));
      // jinja2's Markup escapes the plain operand of a concatenation.
      if (a.safe() || b.safe()) {
        return Value::String((a.safe() ? a.str() : HtmlEscape(a.str())) + (b.safe() ? b.str() : HtmlEscape(b.str())), true);
      }
      return Value::String(a.str() + b.str());
    }
    if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
      EMBER_RETURN_IF_ERROR(interp.CheckListSize(a.items().size() + b.items().size()));
      ValueList out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return a.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
    }
    return TypeError(op, a, b);
  }
  if (op == "*") {
    if ((a.is_string() || a.is_sequence()) && (b.is_int() || b.is_bool())) return Repeat(interp, a, b.as_int());
    if ((b.is_string() || b.is_sequence()) && (a.is_int() || a.is_bool())) return Repeat(interp, b, a.as_int());
    return TypeError(op, a, b);
  }
  if (op == "%" && a.is_string()) {
    EMBER_ASSIGN_OR_RETURN(std::string s, PyPercentFormat(a.str(), b));
    EMBER_RETURN_IF_ERROR(interp.CheckStringSize(s.size()));
    return Value::String(std::move(s), a.safe());
  }
  return TypeError(op, a, b);
}

namespace {

absl::StatusOr<bool> Less(const Value& a, const Value& b, uint64_t* steps) {
  if (++*steps > kMaxCompareSteps) return absl::InvalidArgumentError("comparison too expensive");
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();
  if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const ValueList& x = a.items();
    const ValueList& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (PyEqualsWithin(x[i], y[i], steps)) continue;
      if (*steps > kMaxCompareSteps) return absl::InvalidArgumentError("comparison too expensive");
      return Less(x[i], y[i], steps);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  return absl::InvalidArgumentError("'<' not supported between instances of '" + a.TypeName() + "' and '" +
                                    b.TypeName() + "'");
}

}  // namespace

absl::StatusOr<bool> PyLess(const Value& a, const Value& b) {
  uint64_t steps = 0;
  return Less(a, b, &steps);
}

absl::StatusOr<bool> PyContains(const Value& container, const Value& needle) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!needle.is_string()) {
        if (needle.is_undefined()) return UndefinedError(needle);
        return absl::InvalidArgumentError("'in <string>' requires string as left operand, not " + needle.TypeName());
      }
      return container.str().find(needle.str()) != std::string::npos;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
    case Value::Kind::kGenerator:
      for (const Value& v : container.items()) {
        if (PyEquals(v, needle)) return true;
      }
      return false;
    case Value::Kind::kDict:
      return container.dict().Find(needle) != nullptr;
    case Value::Kind::kUndefined:
      return false;  // an Undefined iterates as empty
    default:
      return absl::InvalidArgumentError("argument of type '" + container.TypeName() + "' is not iterable");
  }
}

absl::StatusOr<bool> CompareOp(std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return PyEquals(a, b);
  if (op == "!=") return !PyEquals(a, b);
  if (op == "<") return PyLess(a, b);
  if (op == ">") return PyLess(b, a);
  if (op == "<=") {
    EMBER_ASSIGN_OR_RETURN(bool gt, PyLess(b, a));
    return !gt;
  }
  if (op == ">=") {
    EMBER_ASSIGN_OR_RETURN(bool lt, PyLess(a, b));
    return !lt;
  }
  if (op == "in") return PyContains(b, a);
  if (op == "notin") {
    EMBER_ASSIGN_OR_RETURN(bool in, PyContains(b, a));
    return !in;
  }
  return absl::InvalidArgumentError("unknown comparison " + std::string(op));
}

absl::StatusOr<Value> Negate(const Value& v, bool minus) {
  if (v.is_float()) return Value::Float(minus ? -v.as_float() : v.as_float());
  if (v.is_int() || v.is_bool()) {
    if (minus && v.as_int() == INT64_MIN) return Overflow();
    return Value::Int(minus ? -v.as_int() : v.as_int());
  }
  if (v.is_undefined()) return UndefinedError(v);
  return absl::InvalidArgumentError(std::string("bad operand type for unary ") + (minus ? "-" : "+") + ": '" +
                                    v.TypeName() + "'");
}

absl::StatusOr<std::string> PyPercentFormat(const std::string& format, const Value& args) {
  ValueList values = args.is_tuple() ? args.items() : ValueList{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out.push_back(format[i]);
      continue;
    }
    if (++i >= format.size()) return absl::InvalidArgumentError("incomplete format");
    if (format[i] == '%') {
      out.push_back('%');
      continue;
    }
    std::string spec = "%";
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) spec.push_back(format[i++]);
    while (i < format.size() && format[i] >= '0' && format[i] <= '9' && spec.size() < 8) spec.push_back(format[i++]);
    if (i < format.size() && format[i] == '.') {
      spec.push_back(format[i++]);
      for (int digits = 0; i < format.size() && format[i] >= '0' && format[i] <= '9' && digits < 3; ++digits) {
        spec.push_back(format[i++]);
      }
    }
    if (i >= format.size()) return absl::InvalidArgumentError("incomplete format");
    const char type = format[i];
    if (next >= values.size()) return absl::InvalidArgumentError("not enough arguments for format string");
    const Value& v = values[next++];
    char buf[512];
    switch (type) {
      case 's': case 'r': {
        out += type == 's' ? PyStr(v) : PyRepr(v);  // width/precision ignored
        break;
      }
      case 'd': case 'i': case 'x': case 'X': case 'o': {
        if (!v.is_number()) return absl::InvalidArgumentError("%" + std::string(1, type) + " format: a real number is required, not " + v.TypeName());
        const long long n = v.is_float() ? static_cast<long long>(v.as_float()) : v.as_int();
        std::snprintf(buf, sizeof buf, (spec + "ll" + std::string(1, type == 'i' ? 'd' : type)).c_str(), n);
        out += buf;
        break;
      }
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
        if (!v.is_number()) return absl::InvalidArgumentError("must be real number, not " + v.TypeName());
        std::snprintf(buf, sizeof buf, (spec + std::string(1, type)).c_str(), v.as_float());
        out += buf;
        break;
      }
      case 'c': {
        if (v.is_string() && CodePointLength(v.str()) == 1) out += v.str();
        else if (v.is_int() && v.as_int() >= 0 && v.as_int() <= 0x10FFFF) out += FromCodePoints(std::u32string(1, static_cast<char32_t>(v.as_int())));
        else return absl::InvalidArgumentError("%c requires int or char");
        break;
      }
      default:
        return absl::InvalidArgumentError("unsupported format character '" + std::string(1, type) + "'");
    }
  }
  if (next < values.size()) return absl::InvalidArgumentError("not all arguments converted during string formatting");
  return out;
}

}  // namespace ember::chat
