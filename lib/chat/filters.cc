// jinja2's built-in filters (as of 3.1) that chat templates use, plus transformers' tojson.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/chat/builtins.h"
#include "lib/chat/interpreter.h"
#include "lib/chat/json_value.h"
#include "lib/chat/operators.h"
#include "lib/chat/py_string.h"
#include "lib/chat/py_text.h"

namespace ember::chat {

namespace {

using Args = CallArgs;

// soft_str: strings stay as they are (keeping "safe"), everything else becomes str(value).
Value SoftStr(const Value& v) { return v.is_string() ? v : Value::String(PyStr(v)); }

absl::StatusOr<int64_t> IntArg(const Value* v, int64_t fallback, std::string_view what) {
  if (v == nullptr) return fallback;
  if (v->is_int() || v->is_bool()) return v->as_int();
  return absl::InvalidArgumentError(absl::StrCat(AV(what), " must be an integer, not ", v->TypeName()));
}

absl::StatusOr<std::string> StrArg(const Value* v, std::string fallback, std::string_view what) {
  if (v == nullptr) return fallback;
  if (v->is_string()) return v->str();
  return absl::InvalidArgumentError(absl::StrCat(AV(what), " must be a string, not ", v->TypeName()));
}

// Follows a jinja2 attribute path "a.b.0" (integers index sequences).
absl::StatusOr<Value> AttrPath(Interpreter& interp, const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && part.size() < 18) {
      EMBER_ASSIGN_OR_RETURN(cur, interp.GetItem(cur, Value::Int(std::atoll(part.c_str()))));
    } else {
      EMBER_ASSIGN_OR_RETURN(cur, interp.GetItem(cur, Value::String(part)));
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// Key for case-insensitive comparisons (jinja2's ignore_case).
Value IgnoreCase(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::String(PyLower(v.str()));
  return v;
}

absl::Status SortValues(std::vector<std::pair<Value, Value>>* keyed, bool reverse) {
  absl::Status error;
  std::stable_sort(keyed->begin(), keyed->end(), [&](const auto& x, const auto& y) {
    if (!error.ok()) return false;
    auto r = reverse ? PyLess(y.first, x.first) : PyLess(x.first, y.first);
    if (!r.ok()) {
      error = r.status();
      return false;
    }
    return *r;
  });
  return error;
}

absl::StatusOr<ValueList> Items(Interpreter& interp, const Value& v) {
  EMBER_ASSIGN_OR_RETURN(ValueList items, IterateValue(v));
  EMBER_RETURN_IF_ERROR(interp.Tick(items.size() / 16));
  return items;
}

// ---- filters ----

absl::StatusOr<Value> FAbs(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("abs", a, {}).status());
  if (v.is_float()) return Value::Float(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == INT64_MIN) return absl::InvalidArgumentError("integer overflow");
    return Value::Int(std::llabs(v.as_int()));
  }
  return absl::InvalidArgumentError("bad operand type for abs(): '" + v.TypeName() + "'");
}

absl::StatusOr<Value> FAttr(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("attr", a, {"name"}));
  EMBER_ASSIGN_OR_RETURN(std::string name, StrArg(b.Get(0), "", "attr name"));
  return interp.GetAttr(v, name);
}

absl::StatusOr<Value> FBatch(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("batch", a, {"linecount", "fill_with"}));
  EMBER_ASSIGN_OR_RETURN(int64_t n, IntArg(b.Get(0), 1, "linecount"));
  if (n <= 0) return absl::InvalidArgumentError("batch size must be positive");
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  ValueList out, cur;
  for (Value& item : items) {
    cur.push_back(std::move(item));
    if (static_cast<int64_t>(cur.size()) == n) {
      out.push_back(Value::List(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (const Value* fill = b.Get(1); fill != nullptr && !fill->is_none()) {
      EMBER_RETURN_IF_ERROR(interp.CheckListSize(static_cast<size_t>(n)));
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*fill);
    }
    out.push_back(Value::List(std::move(cur)));
  }
  return Value::Generator(std::move(out));
}

absl::StatusOr<Value> FCapitalize(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("capitalize", a, {}).status());
  Value s = SoftStr(v);
  return Value::String(PyCapitalize(s.str()), s.safe());
}

absl::StatusOr<Value> FCenter(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("center", a, {"width"}));
  EMBER_ASSIGN_OR_RETURN(int64_t width, IntArg(b.Get(0), 80, "width"));
  std::string s = PyStr(v);
  const int64_t len = static_cast<int64_t>(CodePointLength(s));
  if (width <= len) return Value::String(s);
  EMBER_RETURN_IF_ERROR(interp.CheckStringSize(static_cast<size_t>(width)));
  const int64_t pad = width - len;
  const int64_t left = pad / 2 + (pad & width & 1);
  return Value::String(std::string(left, ' ') + s + std::string(pad - left, ' '));
}

absl::StatusOr<Value> FDefault(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("default", a, {"default_value", "boolean"}));
  const bool boolean = b.Get(1) != nullptr && b.Get(1)->Truthy();
  if (v.is_undefined() || (boolean && !v.Truthy())) return b.GetOr(0, Value::String(""));
  return v;
}

absl::StatusOr<Value> FDictsort(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("dictsort", a, {"case_sensitive", "by", "reverse"}));
  if (!v.is_dict()) return absl::InvalidArgumentError("dictsort: expected a mapping, got " + v.TypeName());
  const bool cs = b.Get(0) && b.Get(0)->Truthy();
  EMBER_ASSIGN_OR_RETURN(std::string by, StrArg(b.Get(1), "key", "by"));
  if (by != "key" && by != "value") return absl::InvalidArgumentError("You can only sort by either \"key\" or \"value\"");
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& [k, val] : v.dict().entries()) {
    keyed.emplace_back(IgnoreCase(by == "key" ? k : val, cs), Value::Tuple({k, val}));
  }
  EMBER_RETURN_IF_ERROR(interp.Tick(keyed.size() / 16));
  EMBER_RETURN_IF_ERROR(SortValues(&keyed, b.Get(2) && b.Get(2)->Truthy()));
  ValueList out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return Value::List(std::move(out));
}

absl::StatusOr<Value> FEscape(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("escape", a, {}).status());
  if (v.is_string() && v.safe()) return v;
  return Value::String(HtmlEscape(PyStr(v)), true);
}

absl::StatusOr<Value> FFirst(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("first", a, {}).status());
  EMBER_ASSIGN_OR_RETURN(ValueList items, IterateValue(v));
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

absl::StatusOr<Value> FLast(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("last", a, {}).status());
  if (v.is_generator()) return absl::InvalidArgumentError("'generator' object is not reversible");
  EMBER_ASSIGN_OR_RETURN(ValueList items, IterateValue(v));
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

std::optional<double> ParseFloat(const std::string& s) {
  std::string t = PyStrip(s, nullptr, StripSide::kBoth);
  std::string clean;
  for (char c : t) {
    if (c != '_') clean.push_back(c);
  }
  if (clean.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return d;
}

absl::StatusOr<Value> FFloat(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("float", a, {"default"}));
  if (v.is_number()) return Value::Float(v.as_float());
  if (v.is_string()) {
    if (auto d = ParseFloat(v.str())) return Value::Float(*d);
  }
  return b.GetOr(0, Value::Float(0.0));
}

absl::StatusOr<Value> FInt(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("int", a, {"default", "base"}));
  EMBER_ASSIGN_OR_RETURN(int64_t base, IntArg(b.Get(1), 10, "base"));
  if (v.is_int() || v.is_bool()) return Value::Int(v.as_int());
  if (v.is_float()) {
    const double f = v.as_float();
    if (std::isfinite(f) && std::fabs(f) < 9.2e18) return Value::Int(static_cast<int64_t>(f));
  }
  if (v.is_string()) {
    std::string t = PyStrip(v.str(), nullptr, StripSide::kBoth);
    if (!t.empty() && base >= 2 && base <= 36) {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(t.c_str(), &end, static_cast<int>(base));
      if (errno == 0 && end == t.c_str() + t.size()) return Value::Int(n);
    }
    if (auto d = ParseFloat(v.str()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(*d));
    }
  }
  return b.GetOr(0, Value::Int(0));
}

absl::StatusOr<Value> FFormat(Interpreter&, const Value& v, Args& a) {
  if (!a.keyword.empty() && !a.positional.empty()) {
    return absl::InvalidArgumentError("can't handle positional and keyword arguments at the same time");
  }
  if (!a.keyword.empty()) return absl::UnimplementedError("format with keyword arguments is not supported");
  EMBER_ASSIGN_OR_RETURN(std::string s, PyPercentFormat(PyStr(v), Value::Tuple(a.positional)));
  return Value::String(std::move(s));
}

absl::StatusOr<Value> FIndent(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("indent", a, {"width", "first", "blank"}));
  std::string indention;
  if (const Value* w = b.Get(0); w != nullptr && w->is_string()) {
    indention = w->str();
  } else {
    EMBER_ASSIGN_OR_RETURN(int64_t width, IntArg(w, 4, "width"));
    if (width > 0) {
      EMBER_RETURN_IF_ERROR(interp.CheckStringSize(static_cast<size_t>(width)));
      indention.assign(width, ' ');
    }
  }
  const bool first = b.Get(1) && b.Get(1)->Truthy();
  const bool blank = b.Get(2) && b.Get(2)->Truthy();
  Value sv = SoftStr(v);
  std::string s = sv.str() + "\n";  // jinja2 appends a newline so splitlines keeps a last empty line
  std::vector<std::string> lines = PySplitLines(s, false);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
      EMBER_RETURN_IF_ERROR(interp.CheckStringSize(rv.size()));
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
      EMBER_RETURN_IF_ERROR(interp.CheckStringSize(rv.size()));
    }
  }
  if (first) rv = indention + rv;
  return Value::String(std::move(rv), sv.safe());
}

absl::StatusOr<Value> FItems(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("items", a, {}).status());
  if (v.is_undefined()) return Value::Generator({});
  if (!v.is_dict()) return absl::InvalidArgumentError("Can only get item pairs from a mapping.");
  ValueList out;
  for (const auto& [k, val] : v.dict().entries()) out.push_back(Value::Tuple({k, val}));
  return Value::Generator(std::move(out));
}

absl::StatusOr<Value> FJoin(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("join", a, {"d", "attribute"}));
  std::string sep = b.Get(0) ? PyStr(*b.Get(0)) : "";
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    Value item = items[i];
    if (const Value* attr = b.Get(1); attr != nullptr && !attr->is_none()) {
      EMBER_ASSIGN_OR_RETURN(item, AttrPath(interp, item, PyStr(*attr)));
    }
    if (i) out += sep;
    out += PyStr(item);
    EMBER_RETURN_IF_ERROR(interp.CheckStringSize(out.size()));
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> FLength(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("length", a, {}).status());
  switch (v.kind()) {
    case Value::Kind::kString: return Value::Int(static_cast<int64_t>(CodePointLength(v.str())));
    case Value::Kind::kList:
    case Value::Kind::kTuple: return Value::Int(static_cast<int64_t>(v.items().size()));
    case Value::Kind::kDict: return Value::Int(static_cast<int64_t>(v.dict().size()));
    case Value::Kind::kUndefined: return Value::Int(0);
    default: return absl::InvalidArgumentError("object of type '" + v.TypeName() + "' has no len()");
  }
}

absl::StatusOr<Value> FList(Interpreter& interp, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("list", a, {}).status());
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  return Value::List(std::move(items));
}

absl::StatusOr<Value> FLower(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("lower", a, {}).status());
  Value s = SoftStr(v);
  return Value::String(PyLower(s.str()), s.safe());
}

absl::StatusOr<Value> FUpper(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("upper", a, {}).status());
  Value s = SoftStr(v);
  return Value::String(PyUpper(s.str()), s.safe());
}

absl::StatusOr<Value> FMap(Interpreter& interp, const Value& v, Args& a) {
  if (!v.Truthy()) return Value::Generator({});  // jinja2 maps nothing over a false value
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  ValueList out;
  out.reserve(items.size());
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [k, val] : a.keyword) {
    if (k == "attribute") attribute = &val;
    else if (k == "default") fallback = &val;
  }
  if (attribute != nullptr) {
    for (const auto& [k, val] : a.keyword) {
      if (k != "attribute" && k != "default") return absl::InvalidArgumentError("Unexpected keyword argument '" + k + "'");
    }
    if (!a.positional.empty()) return absl::InvalidArgumentError("map: attribute= and a filter name given");
    const std::string path = PyStr(*attribute);
    for (const Value& item : items) {
      EMBER_ASSIGN_OR_RETURN(Value r, AttrPath(interp, item, path));
      if (r.is_undefined() && fallback != nullptr) r = *fallback;
      out.push_back(std::move(r));
    }
    return Value::Generator(std::move(out));
  }
  if (a.positional.empty()) {
    if (!a.keyword.empty()) return absl::InvalidArgumentError("map: unexpected keyword arguments");
    return Value::Generator(std::move(items));  // map() with no filter yields the items
  }
  if (!a.positional[0].is_string()) return absl::InvalidArgumentError("map: the filter name must be a string");
  const std::string name = a.positional[0].str();
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + 1, a.positional.end());
  rest.keyword = a.keyword;
  for (const Value& item : items) {
    CallArgs call = rest;
    EMBER_ASSIGN_OR_RETURN(Value r, interp.ApplyFilter(name, item, call));
    out.push_back(std::move(r));
  }
  return Value::Generator(std::move(out));
}

absl::StatusOr<Value> MinMax(Interpreter& interp, const Value& v, Args& a, bool want_max) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind(want_max ? "max" : "min", a, {"case_sensitive", "attribute"}));
  const bool cs = b.Get(0) && b.Get(0)->Truthy();
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  if (items.empty()) return Value::Undefined(std::string("No aggregated item, sequence was empty."));
  size_t best = 0;
  Value best_key;
  for (size_t i = 0; i < items.size(); ++i) {
    Value key = items[i];
    if (const Value* attr = b.Get(1); attr != nullptr && !attr->is_none()) {
      EMBER_ASSIGN_OR_RETURN(key, AttrPath(interp, key, PyStr(*attr)));
    }
    key = IgnoreCase(key, cs);
    if (i == 0) {
      best_key = key;
      continue;
    }
    EMBER_ASSIGN_OR_RETURN(bool better, want_max ? PyLess(best_key, key) : PyLess(key, best_key));
    if (better) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}
absl::StatusOr<Value> FMax(Interpreter& interp, const Value& v, Args& a) { return MinMax(interp, v, a, true); }
absl::StatusOr<Value> FMin(Interpreter& interp, const Value& v, Args& a) { return MinMax(interp, v, a, false); }

absl::StatusOr<Value> FPprint(Interpreter&, const Value& v, Args&) { return Value::String(PyRepr(v)); }

// select / reject / selectattr / rejectattr.
absl::StatusOr<Value> SelectOrReject(Interpreter& interp, const Value& v, Args& a, bool by_attr, bool keep) {
  if (!v.Truthy()) return Value::Generator({});  // jinja2 selects nothing from a false value
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  size_t next = 0;
  std::string attr;
  if (by_attr) {
    if (a.positional.empty()) return absl::InvalidArgumentError("Missing parameter for attribute name");
    attr = PyStr(a.positional[0]);
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (a.positional.size() > next) {
    if (!a.positional[next].is_string()) return absl::InvalidArgumentError("the test name must be a string");
    test = a.positional[next].str();
    test_args.positional.assign(a.positional.begin() + next + 1, a.positional.end());
    test_args.keyword = a.keyword;
  }
  ValueList out;
  for (const Value& item : items) {
    Value subject = item;
    if (by_attr) {
      EMBER_ASSIGN_OR_RETURN(subject, AttrPath(interp, item, attr));
    }
    bool r;
    if (test.empty()) {
      r = subject.Truthy();
    } else {
      CallArgs call = test_args;
      EMBER_ASSIGN_OR_RETURN(r, interp.ApplyTest(test, subject, call));
    }
    if (r == keep) out.push_back(item);
  }
  return Value::Generator(std::move(out));
}
absl::StatusOr<Value> FSelect(Interpreter& i, const Value& v, Args& a) { return SelectOrReject(i, v, a, false, true); }
absl::StatusOr<Value> FReject(Interpreter& i, const Value& v, Args& a) { return SelectOrReject(i, v, a, false, false); }
absl::StatusOr<Value> FSelectAttr(Interpreter& i, const Value& v, Args& a) { return SelectOrReject(i, v, a, true, true); }
absl::StatusOr<Value> FRejectAttr(Interpreter& i, const Value& v, Args& a) { return SelectOrReject(i, v, a, true, false); }

absl::StatusOr<Value> FReplace(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("replace", a, {"old", "new", "count"}));
  if (!b.Get(0) || !b.Get(1)) return absl::InvalidArgumentError("replace() missing required arguments");
  int64_t count = -1;
  if (b.Get(2) && !b.Get(2)->is_none()) {
    EMBER_ASSIGN_OR_RETURN(count, IntArg(b.Get(2), -1, "count"));
  }
  Value s = SoftStr(v);
  std::string old_text = PyStr(*b.Get(0)), new_text = PyStr(*b.Get(1));
  if (s.safe()) {
    if (!(b.Get(0)->is_string() && b.Get(0)->safe())) old_text = HtmlEscape(old_text);
    if (!(b.Get(1)->is_string() && b.Get(1)->safe())) new_text = HtmlEscape(new_text);
  }
  // Bound the result before building it.
  const size_t occurrences = old_text.empty() ? CodePointLength(s.str()) + 1 : s.str().size() / old_text.size();
  if (new_text.size() > old_text.size()) {
    EMBER_RETURN_IF_ERROR(interp.CheckStringSize(s.str().size() + occurrences * (new_text.size() - old_text.size())));
  }
  return Value::String(PyReplace(s.str(), old_text, new_text, count), s.safe());
}

absl::StatusOr<Value> FReverse(Interpreter& interp, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("reverse", a, {}).status());
  if (v.is_string()) {
    std::u32string cps = ToCodePoints(v.str());
    std::reverse(cps.begin(), cps.end());
    return Value::String(FromCodePoints(cps), v.safe());
  }
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  std::reverse(items.begin(), items.end());
  return Value::Generator(std::move(items));  // Python's reversed() iterator
}

absl::StatusOr<Value> FRound(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("round", a, {"precision", "method"}));
  EMBER_ASSIGN_OR_RETURN(int64_t precision, IntArg(b.Get(0), 0, "precision"));
  EMBER_ASSIGN_OR_RETURN(std::string method, StrArg(b.Get(1), "common", "method"));
  if (!v.is_number()) return absl::InvalidArgumentError("round: expected a number, got " + v.TypeName());
  if (precision < -300 || precision > 300) return Value::Float(v.as_float());
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_float() * scale;
  if (!std::isfinite(x) || scale == 0) return Value::Float(v.as_float());
  double r;
  if (method == "common") {
    r = std::nearbyint(x);  // Python's round() rounds half to even
  } else if (method == "ceil") {
    r = std::ceil(x);
  } else if (method == "floor") {
    r = std::floor(x);
  } else {
    return absl::InvalidArgumentError("method must be common, ceil or floor");
  }
  return Value::Float(r / scale);
}

absl::StatusOr<Value> FSafe(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("safe", a, {}).status());
  return Value::String(PyStr(v), true);
}

absl::StatusOr<Value> FSort(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("sort", a, {"reverse", "case_sensitive", "attribute"}));
  const bool reverse = b.Get(0) && b.Get(0)->Truthy();
  const bool cs = b.Get(1) && b.Get(1)->Truthy();
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items) {
    Value key = item;
    if (const Value* attr = b.Get(2); attr != nullptr && !attr->is_none()) {
      EMBER_ASSIGN_OR_RETURN(key, AttrPath(interp, item, PyStr(*attr)));
    }
    keyed.emplace_back(IgnoreCase(key, cs), item);
  }
  EMBER_RETURN_IF_ERROR(SortValues(&keyed, reverse));
  ValueList out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return Value::List(std::move(out));
}

absl::StatusOr<Value> FString(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("string", a, {}).status());
  return SoftStr(v);
}

absl::StatusOr<Value> FStriptags(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("striptags", a, {}).status());
  // Remove <...> tags and comments, then collapse whitespace.
  std::string s = PyStr(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      size_t close = s.find('>', i);
      if (close != std::string::npos) {
        i = close;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  std::vector<std::string> words = PySplit(out, nullptr, -1, false);
  std::string joined;
  for (size_t i = 0; i < words.size(); ++i) joined += (i ? " " : "") + words[i];
  return Value::String(std::move(joined));
}

absl::StatusOr<Value> FSum(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("sum", a, {"attribute", "start"}));
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  Value total = b.GetOr(1, Value::Int(0));
  for (const Value& item : items) {
    Value x = item;
    if (const Value* attr = b.Get(0); attr != nullptr && !attr->is_none()) {
      EMBER_ASSIGN_OR_RETURN(x, AttrPath(interp, item, PyStr(*attr)));
    }
    EMBER_ASSIGN_OR_RETURN(total, BinaryOp(interp, "+", total, x));
  }
  return total;
}

absl::StatusOr<Value> FTitle(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("title", a, {}).status());
  // jinja2's own title: words start after runs of whitespace or one of -({[<.
  Value sv = SoftStr(v);
  std::u32string cps = ToCodePoints(sv.str());
  std::u32string out;
  bool word_start = true;
  for (char32_t c : cps) {
    const bool sep = IsPySpace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    if (sep) {
      out.push_back(c);
      word_start = true;
      continue;
    }
    std::string piece = FromCodePoints(std::u32string(1, c));
    out += ToCodePoints(word_start ? PyUpper(piece) : PyLower(piece));
    word_start = false;
  }
  return Value::String(FromCodePoints(out), sv.safe());
}

absl::StatusOr<Value> FToJson(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"}));
  JsonDumpOptions o;
  o.ensure_ascii = b.Get(0) && b.Get(0)->Truthy();
  if (const Value* indent = b.Get(1); indent != nullptr && !indent->is_none()) {
    if (indent->is_string()) {
      o.indent = indent->str();
    } else if (indent->is_int()) {
      o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(indent->as_int(), 0, 64)), ' ');
    } else {
      return absl::InvalidArgumentError("tojson: indent must be an int or a string");
    }
    o.item_separator = ",";
  }
  if (const Value* seps = b.Get(2); seps != nullptr && !seps->is_none()) {
    if (!seps->is_sequence() || seps->items().size() != 2 || !seps->items()[0].is_string() || !seps->items()[1].is_string()) {
      return absl::InvalidArgumentError("tojson: separators must be a pair of strings");
    }
    o.item_separator = seps->items()[0].str();
    o.key_separator = seps->items()[1].str();
  }
  o.sort_keys = b.Get(3) && b.Get(3)->Truthy();
  o.max_bytes = interp.limits().max_output_bytes;
  EMBER_ASSIGN_OR_RETURN(std::string s, PyJsonDumps(v, o));
  return Value::String(std::move(s));
}

absl::StatusOr<Value> FTrim(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("trim", a, {"chars"}));
  Value s = SoftStr(v);
  std::string chars;
  const std::string* cp = nullptr;
  if (const Value* c = b.Get(0); c != nullptr && !c->is_none()) {
    chars = PyStr(*c);
    cp = &chars;
  }
  return Value::String(PyStrip(s.str(), cp, StripSide::kBoth), s.safe());
}

absl::StatusOr<Value> FTruncate(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("truncate", a, {"length", "killwords", "end", "leeway"}));
  EMBER_ASSIGN_OR_RETURN(int64_t length, IntArg(b.Get(0), 255, "length"));
  const bool killwords = b.Get(1) && b.Get(1)->Truthy();
  std::string end = b.Get(2) ? PyStr(*b.Get(2)) : "...";
  EMBER_ASSIGN_OR_RETURN(int64_t leeway, IntArg(b.Get(3) && !b.Get(3)->is_none() ? b.Get(3) : nullptr, 5, "leeway"));
  if (leeway < 0) return absl::InvalidArgumentError("expected leeway >= 0");
  length = std::min<int64_t>(length, int64_t{1} << 40);
  leeway = std::min<int64_t>(leeway, int64_t{1} << 40);
  std::u32string s = ToCodePoints(PyStr(v));
  const int64_t end_len = static_cast<int64_t>(CodePointLength(end));
  if (length < end_len) return absl::InvalidArgumentError("expected length >= " + std::to_string(end_len));
  if (static_cast<int64_t>(s.size()) <= length + leeway) return Value::String(FromCodePoints(s));
  std::u32string cut = s.substr(0, length - end_len);
  if (killwords) return Value::String(FromCodePoints(cut) + end);
  size_t space = cut.rfind(U' ');
  if (space != std::u32string::npos) cut = cut.substr(0, space);
  return Value::String(FromCodePoints(cut) + end);
}

absl::StatusOr<Value> FUnique(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("unique", a, {"case_sensitive", "attribute"}));
  const bool cs = b.Get(0) && b.Get(0)->Truthy();
  EMBER_ASSIGN_OR_RETURN(ValueList items, Items(interp, v));
  EMBER_RETURN_IF_ERROR(interp.Tick(items.size() * items.size() / 4096));
  ValueList out, seen;
  for (const Value& item : items) {
    Value key = item;
    if (const Value* attr = b.Get(1); attr != nullptr && !attr->is_none()) {
      EMBER_ASSIGN_OR_RETURN(key, AttrPath(interp, item, PyStr(*attr)));
    }
    key = IgnoreCase(key, cs);
    bool dup = false;
    for (const Value& s : seen) dup = dup || PyEquals(s, key);
    if (dup) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::Generator(std::move(out));
}

absl::StatusOr<Value> FWordcount(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(BoundArgs::Bind("wordcount", a, {}).status());
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : ToCodePoints(PyStr(v))) {
    const bool w = IsPyAlpha(c) || IsPyDigit(c) || c == '_';
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::Int(n);
}

const absl::flat_hash_map<std::string_view, FilterFn>& FilterTable() {
  static const auto* table = new absl::flat_hash_map<std::string_view, FilterFn>{
      {"abs", FAbs}, {"attr", FAttr}, {"batch", FBatch}, {"capitalize", FCapitalize}, {"center", FCenter},
      {"count", FLength}, {"d", FDefault}, {"default", FDefault}, {"dictsort", FDictsort}, {"e", FEscape},
      {"escape", FEscape}, {"first", FFirst}, {"float", FFloat}, {"forceescape", FEscape}, {"format", FFormat},
      {"indent", FIndent}, {"int", FInt}, {"items", FItems}, {"join", FJoin}, {"last", FLast},
      {"length", FLength}, {"list", FList}, {"lower", FLower}, {"map", FMap}, {"max", FMax}, {"min", FMin},
      {"pprint", FPprint}, {"reject", FReject}, {"rejectattr", FRejectAttr}, {"replace", FReplace},
      {"reverse", FReverse}, {"round", FRound}, {"safe", FSafe}, {"select", FSelect},
      {"selectattr", FSelectAttr}, {"sort", FSort}, {"string", FString}, {"striptags", FStriptags},
      {"sum", FSum}, {"title", FTitle}, {"tojson", FToJson}, {"trim", FTrim}, {"truncate", FTruncate},
      {"unique", FUnique}, {"upper", FUpper}, {"wordcount", FWordcount},
  };
  return *table;
}

}  // namespace

FilterFn FindFilter(std::string_view name) {
  auto it = FilterTable().find(name);
  return it == FilterTable().end() ? nullptr : it->second;
}

}  // namespace ember::chat
