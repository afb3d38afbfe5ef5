// The str, dict, list and tuple methods templates call (`content.strip()`,
// `message.get('x')`, ...). Only non-mutating methods exist, as in jinja2's
// ImmutableSandboxedEnvironment.
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/chat/builtins.h"
#include "lib/chat/interpreter.h"
#include "lib/chat/py_string.h"
#include "lib/chat/py_text.h"

namespace ember::chat {

namespace {

using MethodFn = absl::StatusOr<Value> (*)(Interpreter&, const Value& self, CallArgs& args);

absl::StatusOr<std::string> StrParam(const Value* v, std::string_view what) {
  if (v == nullptr || !v->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(AV(what), " must be str, not ", v ? v->TypeName() : "nothing"));
  }
  return v->str();
}

absl::StatusOr<int64_t> IntParam(const Value* v, int64_t fallback) {
  if (v == nullptr || v->is_none()) return fallback;
  if (v->is_int() || v->is_bool()) return v->as_int();
  return absl::InvalidArgumentError("an integer is required, not " + v->TypeName());
}

Value StrResult(const Value& self, std::string s) { return Value::String(std::move(s), self.safe()); }

// ---- str ----

absl::StatusOr<Value> Strip(const Value& self, CallArgs& a, StripSide side) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("strip", a, {"chars"}));
  std::string chars;
  const std::string* cp = nullptr;
  if (const Value* c = b.Get(0); c != nullptr && !c->is_none()) {
    EMBER_ASSIGN_OR_RETURN(chars, StrParam(c, "strip arg"));
    cp = &chars;
  }
  return StrResult(self, PyStrip(self.str(), cp, side));
}
absl::StatusOr<Value> MStrip(Interpreter&, const Value& s, CallArgs& a) { return Strip(s, a, StripSide::kBoth); }
absl::StatusOr<Value> MLStrip(Interpreter&, const Value& s, CallArgs& a) { return Strip(s, a, StripSide::kLeft); }
absl::StatusOr<Value> MRStrip(Interpreter&, const Value& s, CallArgs& a) { return Strip(s, a, StripSide::kRight); }

absl::StatusOr<Value> Split(Interpreter& interp, const Value& self, CallArgs& a, bool right) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("split", a, {"sep", "maxsplit"}));
  std::string sep;
  const std::string* sp = nullptr;
  if (const Value* s = b.Get(0); s != nullptr && !s->is_none()) {
    EMBER_ASSIGN_OR_RETURN(sep, StrParam(s, "separator"));
    if (sep.empty()) return absl::InvalidArgumentError("empty separator");
    sp = &sep;
  }
  EMBER_ASSIGN_OR_RETURN(int64_t maxsplit, IntParam(b.Get(1), -1));
  std::vector<std::string> parts = PySplit(self.str(), sp, maxsplit, right);
  EMBER_RETURN_IF_ERROR(interp.CheckListSize(parts.size()));
  ValueList out;
  for (std::string& p : parts) out.push_back(StrResult(self, std::move(p)));
  return Value::List(std::move(out));
}
absl::StatusOr<Value> MSplit(Interpreter& i, const Value& s, CallArgs& a) { return Split(i, s, a, false); }
absl::StatusOr<Value> MRSplit(Interpreter& i, const Value& s, CallArgs& a) { return Split(i, s, a, true); }

absl::StatusOr<Value> MSplitLines(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("splitlines", a, {"keepends"}));
  ValueList out;
  for (std::string& p : PySplitLines(self.str(), b.Get(0) && b.Get(0)->Truthy())) out.push_back(StrResult(self, std::move(p)));
  return Value::List(std::move(out));
}

absl::StatusOr<Value> Affix(const Value& self, CallArgs& a, bool start) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind(start ? "startswith" : "endswith", a, {"prefix", "start", "end"}));
  const Value* p = b.Get(0);
  if (p == nullptr) return absl::InvalidArgumentError("startswith/endswith takes at least 1 argument");
  std::u32string cps = ToCodePoints(self.str());
  int64_t n = static_cast<int64_t>(cps.size());
  EMBER_ASSIGN_OR_RETURN(int64_t from, IntParam(b.Get(1), 0));
  EMBER_ASSIGN_OR_RETURN(int64_t to, IntParam(b.Get(2), n));
  if (from < 0) from = std::max<int64_t>(from + n, 0);
  if (to < 0) to = std::max<int64_t>(to + n, 0);
  to = std::min(to, n);
  std::string window = from <= to ? FromCodePoints(std::u32string_view(cps).substr(from, to - from)) : std::string();
  const bool valid = from <= n && from <= to;
  ValueList candidates = p->is_tuple() ? p->items() : ValueList{*p};
  for (const Value& c : candidates) {
    if (!c.is_string()) return absl::InvalidArgumentError("startswith/endswith first arg must be str or a tuple of str");
    if (!valid) continue;
    const std::string& x = c.str();
    if (x.size() > window.size()) continue;
    if (start ? window.compare(0, x.size(), x) == 0 : window.compare(window.size() - x.size(), x.size(), x) == 0) {
      return Value::Bool(true);
    }
  }
  return Value::Bool(false);
}
absl::StatusOr<Value> MStartsWith(Interpreter&, const Value& s, CallArgs& a) { return Affix(s, a, true); }
absl::StatusOr<Value> MEndsWith(Interpreter&, const Value& s, CallArgs& a) { return Affix(s, a, false); }

#define EMBER_STR_MAP(fn, name, expr)                                       \
  absl::StatusOr<Value> fn(Interpreter&, const Value& self, CallArgs& a) {  \
    EMBER_RETURN_IF_ERROR(BoundArgs::Bind(name, a, {}).status());           \
    return StrResult(self, expr(self.str()));                               \
  }
EMBER_STR_MAP(MUpper, "upper", PyUpper)
EMBER_STR_MAP(MLower, "lower", PyLower)
EMBER_STR_MAP(MCaseFold, "casefold", PyLower)
EMBER_STR_MAP(MTitle, "title", PyTitle)
EMBER_STR_MAP(MCapitalize, "capitalize", PyCapitalize)
EMBER_STR_MAP(MSwapCase, "swapcase", PySwapCase)
#undef EMBER_STR_MAP

template <bool (*kPred)(char32_t)>
absl::StatusOr<Value> MIsAll(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("is", a, {}).status());
  std::u32string cps = ToCodePoints(self.str());
  if (cps.empty()) return Value::Bool(false);
  for (char32_t c : cps) {
    if (!kPred(c)) return Value::Bool(false);
  }
  return Value::Bool(true);
}
bool IsAlnum(char32_t c) { return IsPyAlpha(c) || IsPyDigit(c); }

absl::StatusOr<Value> CaseTest(const Value& self, CallArgs& a, bool upper) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind(upper ? "isupper" : "islower", a, {}).status());
  bool cased = false;
  for (char32_t c : ToCodePoints(self.str())) {
    if (upper ? IsPyLower(c) : IsPyUpper(c)) return Value::Bool(false);
    cased = cased || (upper ? IsPyUpper(c) : IsPyLower(c));
  }
  return Value::Bool(cased);
}
absl::StatusOr<Value> MIsUpper(Interpreter&, const Value& s, CallArgs& a) { return CaseTest(s, a, true); }
absl::StatusOr<Value> MIsLower(Interpreter&, const Value& s, CallArgs& a) { return CaseTest(s, a, false); }

absl::StatusOr<Value> MReplace(Interpreter& interp, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("replace", a, {"old", "new", "count"}));
  EMBER_ASSIGN_OR_RETURN(std::string old_text, StrParam(b.Get(0), "replace() argument 1"));
  EMBER_ASSIGN_OR_RETURN(std::string new_text, StrParam(b.Get(1), "replace() argument 2"));
  EMBER_ASSIGN_OR_RETURN(int64_t count, IntParam(b.Get(2), -1));
  const size_t occurrences = old_text.empty() ? CodePointLength(self.str()) + 1 : self.str().size() / old_text.size();
  if (new_text.size() > old_text.size()) {
    EMBER_RETURN_IF_ERROR(interp.CheckStringSize(self.str().size() + occurrences * (new_text.size() - old_text.size())));
  }
  return StrResult(self, PyReplace(self.str(), old_text, new_text, count));
}

// find / rfind / index / rindex / count, in code points.
absl::StatusOr<Value> Search(const Value& self, CallArgs& a, bool from_right, bool raise) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("find", a, {"sub", "start", "end"}));
  EMBER_ASSIGN_OR_RETURN(std::string sub, StrParam(b.Get(0), "substring"));
  std::u32string cps = ToCodePoints(self.str());
  std::u32string needle = ToCodePoints(sub);
  const int64_t n = static_cast<int64_t>(cps.size());
  EMBER_ASSIGN_OR_RETURN(int64_t from, IntParam(b.Get(1), 0));
  EMBER_ASSIGN_OR_RETURN(int64_t to, IntParam(b.Get(2), n));
  if (from < 0) from = std::max<int64_t>(from + n, 0);
  if (to < 0) to = std::max<int64_t>(to + n, 0);
  to = std::min(to, n);
  int64_t found = -1;
  if (from <= to && static_cast<int64_t>(needle.size()) <= to - from) {
    std::u32string_view window = std::u32string_view(cps).substr(from, to - from);
    size_t pos = from_right ? window.rfind(needle) : window.find(needle);
    if (pos != std::u32string_view::npos) found = from + static_cast<int64_t>(pos);
  }
  if (found < 0 && raise) return absl::InvalidArgumentError("substring not found");
  return Value::Int(found);
}
absl::StatusOr<Value> MFind(Interpreter&, const Value& s, CallArgs& a) { return Search(s, a, false, false); }
absl::StatusOr<Value> MRFind(Interpreter&, const Value& s, CallArgs& a) { return Search(s, a, true, false); }
absl::StatusOr<Value> MIndex(Interpreter&, const Value& s, CallArgs& a) { return Search(s, a, false, true); }
absl::StatusOr<Value> MRIndex(Interpreter&, const Value& s, CallArgs& a) { return Search(s, a, true, true); }

absl::StatusOr<Value> MStrCount(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("count", a, {"sub"}));
  EMBER_ASSIGN_OR_RETURN(std::string sub, StrParam(b.Get(0), "substring"));
  if (sub.empty()) return Value::Int(static_cast<int64_t>(CodePointLength(self.str())) + 1);
  int64_t n = 0;
  for (size_t pos = self.str().find(sub); pos != std::string::npos; pos = self.str().find(sub, pos + sub.size())) ++n;
  return Value::Int(n);
}

absl::StatusOr<Value> MJoin(Interpreter& interp, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("join", a, {"iterable"}));
  if (!b.Get(0)) return absl::InvalidArgumentError("join() takes exactly one argument");
  EMBER_ASSIGN_OR_RETURN(ValueList items, IterateValue(*b.Get(0)));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("sequence item ", i, ": expected str instance, ", items[i].TypeName(), " found"));
    }
    if (i) out += self.str();
    out += items[i].str();
    EMBER_RETURN_IF_ERROR(interp.CheckStringSize(out.size()));
  }
  return StrResult(self, std::move(out));
}

absl::StatusOr<Value> Pad(Interpreter& interp, const Value& self, CallArgs& a, int align) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("ljust", a, {"width", "fillchar"}));
  EMBER_ASSIGN_OR_RETURN(int64_t width, IntParam(b.Get(0), 0));
  std::string fill = " ";
  if (b.Get(1)) {
    EMBER_ASSIGN_OR_RETURN(fill, StrParam(b.Get(1), "fillchar"));
    if (CodePointLength(fill) != 1) return absl::InvalidArgumentError("The fill character must be exactly one character long");
  }
  const int64_t len = static_cast<int64_t>(CodePointLength(self.str()));
  if (width <= len) return self;
  EMBER_RETURN_IF_ERROR(interp.CheckStringSize(static_cast<size_t>(width)));
  EMBER_RETURN_IF_ERROR(interp.CheckStringSize(static_cast<size_t>(width) * fill.size()));
  const int64_t pad = width - len;
  int64_t left = align < 0 ? 0 : align > 0 ? pad : pad / 2 + (pad & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += self.str();
  for (int64_t i = 0; i < pad - left; ++i) out += fill;
  return StrResult(self, std::move(out));
}
absl::StatusOr<Value> MLJust(Interpreter& i, const Value& s, CallArgs& a) { return Pad(i, s, a, -1); }
absl::StatusOr<Value> MRJust(Interpreter& i, const Value& s, CallArgs& a) { return Pad(i, s, a, 1); }
absl::StatusOr<Value> MCenter(Interpreter& i, const Value& s, CallArgs& a) { return Pad(i, s, a, 0); }

absl::StatusOr<Value> MZfill(Interpreter& interp, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("zfill", a, {"width"}));
  EMBER_ASSIGN_OR_RETURN(int64_t width, IntParam(b.Get(0), 0));
  const std::string& s = self.str();
  const int64_t len = static_cast<int64_t>(CodePointLength(s));
  if (width <= len) return self;
  EMBER_RETURN_IF_ERROR(interp.CheckStringSize(static_cast<size_t>(width)));
  const bool sign = !s.empty() && (s[0] == '+' || s[0] == '-');
  std::string out = sign ? s.substr(0, 1) : "";
  out += std::string(width - len, '0');
  out += sign ? s.substr(1) : s;
  return StrResult(self, std::move(out));
}

absl::StatusOr<Value> Partition(const Value& self, CallArgs& a, bool right) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("partition", a, {"sep"}));
  EMBER_ASSIGN_OR_RETURN(std::string sep, StrParam(b.Get(0), "separator"));
  if (sep.empty()) return absl::InvalidArgumentError("empty separator");
  const std::string& s = self.str();
  size_t pos = right ? s.rfind(sep) : s.find(sep);
  if (pos == std::string::npos) {
    return right ? Value::Tuple({StrResult(self, ""), StrResult(self, ""), self})
                 : Value::Tuple({self, StrResult(self, ""), StrResult(self, "")});
  }
  return Value::Tuple({StrResult(self, s.substr(0, pos)), StrResult(self, sep), StrResult(self, s.substr(pos + sep.size()))});
}
absl::StatusOr<Value> MPartition(Interpreter&, const Value& s, CallArgs& a) { return Partition(s, a, false); }
absl::StatusOr<Value> MRPartition(Interpreter&, const Value& s, CallArgs& a) { return Partition(s, a, true); }

absl::StatusOr<Value> RemoveAffix(const Value& self, CallArgs& a, bool prefix) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind(prefix ? "removeprefix" : "removesuffix", a, {"affix"}));
  EMBER_ASSIGN_OR_RETURN(std::string x, StrParam(b.Get(0), "argument"));
  const std::string& s = self.str();
  if (x.empty() || x.size() > s.size()) return self;
  if (prefix && s.compare(0, x.size(), x) == 0) return StrResult(self, s.substr(x.size()));
  if (!prefix && s.compare(s.size() - x.size(), x.size(), x) == 0) return StrResult(self, s.substr(0, s.size() - x.size()));
  return self;
}
absl::StatusOr<Value> MRemovePrefix(Interpreter&, const Value& s, CallArgs& a) { return RemoveAffix(s, a, true); }
absl::StatusOr<Value> MRemoveSuffix(Interpreter&, const Value& s, CallArgs& a) { return RemoveAffix(s, a, false); }

// str.format with positional/keyword fields, !r/!s conversions and simple specs
// ([[fill]align][width][.precision][type]).
absl::StatusOr<Value> MFormat(Interpreter& interp, const Value& self, CallArgs& a) {
  const std::string& f = self.str();
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') ++i;
      else return absl::InvalidArgumentError("Single '}' encountered in format string");
      out.push_back('}');
      continue;
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string::npos) return absl::InvalidArgumentError("expected '}' before end of string");
    std::string field = f.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conversion;
    if (size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      conversion = field.substr(bang + 1);
      field = field.substr(0, bang);
    }
    Value v;
    if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      const size_t idx = field.empty() ? auto_index++ : static_cast<size_t>(std::atoi(field.c_str()));
      if (idx >= a.positional.size()) return absl::InvalidArgumentError("Replacement index " + std::to_string(idx) + " out of range for positional args tuple");
      v = a.positional[idx];
    } else {
      bool found = false;
      for (const auto& [k, val] : a.keyword) {
        if (k == field) {
          v = val;
          found = true;
        }
      }
      if (!found) return absl::InvalidArgumentError("KeyError: '" + field + "'");
    }
    std::string text;
    if (conversion == "r") text = PyRepr(v);
    else if (conversion.empty() || conversion == "s") text = PyStr(v);
    else return absl::InvalidArgumentError("Unknown conversion specifier " + conversion);
    if (!spec.empty()) {
      size_t p = 0;
      char fill = ' ', align = 0;
      if (spec.size() >= 2 && std::string_view("<>^").find(spec[1]) != std::string_view::npos) {
        fill = spec[0];
        align = spec[1];
        p = 2;
      } else if (std::string_view("<>^").find(spec[0]) != std::string_view::npos) {
        align = spec[0];
        p = 1;
      }
      int64_t width = 0, precision = -1;
      while (p < spec.size() && spec[p] >= '0' && spec[p] <= '9' && width < 100000) width = width * 10 + (spec[p++] - '0');
      if (p < spec.size() && spec[p] == '.') {
        precision = 0;
        ++p;
        while (p < spec.size() && spec[p] >= '0' && spec[p] <= '9' && precision < 100) precision = precision * 10 + (spec[p++] - '0');
      }
      const char type = p < spec.size() ? spec[p] : 0;
      if ((type == 'f' || type == 'F') && v.is_number() && conversion.empty()) {
        char buf[512];
        std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision < 0 ? 6 : precision), v.as_float());
        text = buf;
      } else if (precision >= 0 && v.is_string()) {
        text = FromCodePoints(ToCodePoints(text).substr(0, precision));
      }
      const int64_t len = static_cast<int64_t>(CodePointLength(text));
      if (width > len) {
        EMBER_RETURN_IF_ERROR(interp.CheckStringSize(static_cast<size_t>(width)));
        if (align == 0) align = v.is_number() ? '>' : '<';
        const int64_t pad = width - len;
        const int64_t left = align == '<' ? 0 : align == '>' ? pad : pad / 2;
        text = std::string(left, fill) + text + std::string(pad - left, fill);
      }
    }
    out += text;
    EMBER_RETURN_IF_ERROR(interp.CheckStringSize(out.size()));
  }
  return StrResult(self, std::move(out));
}

// ---- dict ----

absl::StatusOr<Value> MItems(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("items", a, {}).status());
  ValueList out;
  for (const auto& [k, v] : self.dict().entries()) out.push_back(Value::Tuple({k, v}));
  return Value::List(std::move(out));
}
absl::StatusOr<Value> MKeys(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("keys", a, {}).status());
  ValueList out;
  for (const auto& [k, v] : self.dict().entries()) out.push_back(k);
  return Value::List(std::move(out));
}
absl::StatusOr<Value> MValues(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("values", a, {}).status());
  ValueList out;
  for (const auto& [k, v] : self.dict().entries()) out.push_back(v);
  return Value::List(std::move(out));
}
absl::StatusOr<Value> MGet(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("get", a, {"key", "default"}));
  if (!b.Get(0)) return absl::InvalidArgumentError("get expected at least 1 argument, got 0");
  const Value* v = self.dict().Find(*b.Get(0));
  if (v != nullptr) return *v;
  return b.GetOr(1, Value::None());
}
absl::StatusOr<Value> MCopy(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("copy", a, {}).status());
  return self;  // values are immutable: a copy is the same value
}

// ---- list / tuple ----

absl::StatusOr<Value> MListIndex(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("index", a, {"value"}));
  if (!b.Get(0)) return absl::InvalidArgumentError("index expected 1 argument");
  for (size_t i = 0; i < self.items().size(); ++i) {
    if (PyEquals(self.items()[i], *b.Get(0))) return Value::Int(static_cast<int64_t>(i));
  }
  return absl::InvalidArgumentError(PyRepr(*b.Get(0)) + " is not in list");
}
absl::StatusOr<Value> MListCount(Interpreter&, const Value& self, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("count", a, {"value"}));
  if (!b.Get(0)) return absl::InvalidArgumentError("count expected 1 argument");
  int64_t n = 0;
  for (const Value& v : self.items()) n += PyEquals(v, *b.Get(0));
  return Value::Int(n);
}

using Table = absl::flat_hash_map<std::string_view, MethodFn>;

const Table& StrMethods() {
  static const auto* t = new Table{
      {"strip", MStrip}, {"lstrip", MLStrip}, {"rstrip", MRStrip}, {"split", MSplit}, {"rsplit", MRSplit},
      {"splitlines", MSplitLines}, {"startswith", MStartsWith}, {"endswith", MEndsWith}, {"upper", MUpper},
      {"lower", MLower}, {"casefold", MCaseFold}, {"title", MTitle}, {"capitalize", MCapitalize},
      {"swapcase", MSwapCase}, {"isalpha", MIsAll<IsPyAlpha>}, {"isdigit", MIsAll<IsPyDigit>},
      {"isnumeric", MIsAll<IsPyDigit>}, {"isdecimal", MIsAll<IsPyDigit>}, {"isalnum", MIsAll<IsAlnum>},
      {"isspace", MIsAll<IsPySpace>}, {"isupper", MIsUpper}, {"islower", MIsLower}, {"replace", MReplace},
      {"find", MFind}, {"rfind", MRFind}, {"index", MIndex}, {"rindex", MRIndex}, {"count", MStrCount},
      {"join", MJoin}, {"ljust", MLJust}, {"rjust", MRJust}, {"center", MCenter}, {"zfill", MZfill},
      {"partition", MPartition}, {"rpartition", MRPartition}, {"removeprefix", MRemovePrefix},
      {"removesuffix", MRemoveSuffix}, {"format", MFormat},
  };
  return *t;
}
const Table& DictMethods() {
  static const auto* t = new Table{{"items", MItems}, {"keys", MKeys}, {"values", MValues}, {"get", MGet}, {"copy", MCopy}};
  return *t;
}
const Table& ListMethods() {
  static const auto* t = new Table{{"index", MListIndex}, {"count", MListCount}, {"copy", MCopy}};
  return *t;
}

bool IsMutating(const Value& receiver, std::string_view name) {
  static constexpr std::string_view kList[] = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};
  static constexpr std::string_view kDict[] = {"clear", "pop", "popitem", "setdefault", "update"};
  if (receiver.is_list()) {
    for (std::string_view n : kList) {
      if (n == name) return true;
    }
  }
  if (receiver.is_dict()) {
    for (std::string_view n : kDict) {
      if (n == name) return true;
    }
  }
  return false;
}

}  // namespace

bool IsDictMethod(std::string_view name) { return DictMethods().contains(name); }

Value GetMethod(const Value& receiver, std::string_view name) {
  const Table* table = receiver.is_string() ? &StrMethods()
                       : receiver.is_dict() ? &DictMethods()
                       : receiver.is_sequence() ? &ListMethods()
                                                : nullptr;
  if (table != nullptr) {
    auto it = table->find(name);
    if (it != table->end()) {
      MethodFn fn = it->second;
      Value self = receiver;
      return Value::FromObject(std::make_shared<NativeFunction>(
          std::string(name), [fn, self](Interpreter& interp, CallArgs& args) { return fn(interp, self, args); },
          receiver.depth() + 1));
    }
  }
  if (IsMutating(receiver, name)) {
    return Value::Undefined("access to attribute '" + std::string(name) + "' of '" + receiver.TypeName() + "' object is unsafe.");
  }
  return Value::Undefined("'" + receiver.TypeName() + " object' has no attribute '" + std::string(name) + "'");
}

}  // namespace ember::chat
