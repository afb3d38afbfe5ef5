// jinja2's built-in tests (`value is name(args)`).
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "lib/base/errors.h"
#include "lib/chat/builtins.h"
#include "lib/chat/operators.h"
#include "lib/chat/py_string.h"
#include "lib/chat/py_text.h"

namespace ember::chat {

namespace {

using Args = CallArgs;

absl::StatusOr<Value> OneArg(std::string_view name, const Args& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind(name, a, {"other"}));
  if (!b.Get(0)) return absl::InvalidArgumentError(std::string(name) + "() missing required argument");
  return *b.Get(0);
}

absl::Status NoArgs(std::string_view name, const Args& a) { return BoundArgs::Bind(name, a, {}).status(); }

#define EMBER_SIMPLE_TEST(fn, name, expr)                                  \
  absl::StatusOr<bool> fn(Interpreter&, const Value& v, Args& a) {        \
    EMBER_RETURN_IF_ERROR(NoArgs(name, a));                                \
    return (expr);                                                         \
  }

EMBER_SIMPLE_TEST(TBoolean, "boolean", v.is_bool())
EMBER_SIMPLE_TEST(TCallable, "callable", v.is_object() && v.object()->callable())
EMBER_SIMPLE_TEST(TDefined, "defined", !v.is_undefined())
EMBER_SIMPLE_TEST(TUndefined, "undefined", v.is_undefined())
EMBER_SIMPLE_TEST(TEscaped, "escaped", v.is_string() && v.safe())
EMBER_SIMPLE_TEST(TFalse, "false", v.is_bool() && !v.as_bool())
EMBER_SIMPLE_TEST(TTrue, "true", v.is_bool() && v.as_bool())
EMBER_SIMPLE_TEST(TFloat, "float", v.is_float())
EMBER_SIMPLE_TEST(TInteger, "integer", v.is_int())
EMBER_SIMPLE_TEST(TIterable, "iterable", v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined() || v.is_generator())
EMBER_SIMPLE_TEST(TMapping, "mapping", v.is_dict())
EMBER_SIMPLE_TEST(TNone, "none", v.is_none())
EMBER_SIMPLE_TEST(TNumber, "number", v.is_number())
EMBER_SIMPLE_TEST(TSequence, "sequence", v.is_string() || v.is_sequence() || v.is_dict())
EMBER_SIMPLE_TEST(TString, "string", v.is_string())

#undef EMBER_SIMPLE_TEST

absl::StatusOr<bool> TLower(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(NoArgs("lower", a));
  bool cased = false;
  for (char32_t c : ToCodePoints(PyStr(v))) {
    if (IsPyUpper(c)) return false;
    cased = cased || IsPyLower(c);
  }
  return cased;
}

absl::StatusOr<bool> TUpper(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(NoArgs("upper", a));
  bool cased = false;
  for (char32_t c : ToCodePoints(PyStr(v))) {
    if (IsPyLower(c)) return false;
    cased = cased || IsPyUpper(c);
  }
  return cased;
}

absl::StatusOr<bool> Parity(const Value& v, bool odd) {
  if (!(v.is_int() || v.is_bool())) {
    if (v.is_float()) return std::fmod(v.as_float(), 2.0) == (odd ? 1.0 : 0.0);
    return absl::InvalidArgumentError("unsupported operand type for %: '" + v.TypeName() + "'");
  }
  const int64_t r = ((v.as_int() % 2) + 2) % 2;
  return odd ? r == 1 : r == 0;
}
absl::StatusOr<bool> TEven(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(NoArgs("even", a));
  return Parity(v, false);
}
absl::StatusOr<bool> TOdd(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(NoArgs("odd", a));
  return Parity(v, true);
}

absl::StatusOr<bool> TDivisibleBy(Interpreter& interp, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(Value n, OneArg("divisibleby", a));
  EMBER_ASSIGN_OR_RETURN(Value r, BinaryOp(interp, "%", v, n));
  return !r.Truthy();
}

template <const char* kOp>
absl::StatusOr<bool> TCompare(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(Value other, OneArg(kOp, a));
  return CompareOp(kOp, v, other);
}
constexpr char kEq[] = "==";
constexpr char kNe[] = "!=";
constexpr char kLt[] = "<";
constexpr char kLe[] = "<=";
constexpr char kGt[] = ">";
constexpr char kGe[] = ">=";

absl::StatusOr<bool> TIn(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(Value seq, OneArg("in", a));
  return PyContains(seq, v);
}

absl::StatusOr<bool> TSameAs(Interpreter&, const Value& v, Args& a) {
  EMBER_ASSIGN_OR_RETURN(Value other, OneArg("sameas", a));
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kNone:
    case Value::Kind::kUndefined: return true;
    case Value::Kind::kBool:
    case Value::Kind::kInt: return v.as_int() == other.as_int();
    case Value::Kind::kString: return v.str() == other.str();
    case Value::Kind::kList:
    case Value::Kind::kTuple: return &v.items() == &other.items();
    case Value::Kind::kDict: return v.dict_ptr() == other.dict_ptr();
    case Value::Kind::kObject: return v.object() == other.object();
    default: return false;
  }
}

absl::StatusOr<bool> TFilter(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(NoArgs("filter", a));
  return v.is_string() && FindFilter(v.str()) != nullptr;
}

absl::StatusOr<bool> TTest(Interpreter&, const Value& v, Args& a) {
  EMBER_RETURN_IF_ERROR(NoArgs("test", a));
  return v.is_string() && FindTest(v.str()) != nullptr;
}

const absl::flat_hash_map<std::string_view, TestFn>& TestTable() {
  static const auto* table = new absl::flat_hash_map<std::string_view, TestFn>{
      {"boolean", TBoolean}, {"callable", TCallable}, {"defined", TDefined}, {"divisibleby", TDivisibleBy},
      {"eq", TCompare<kEq>}, {"equalto", TCompare<kEq>}, {"==", TCompare<kEq>}, {"escaped", TEscaped},
      {"even", TEven}, {"false", TFalse}, {"filter", TFilter}, {"float", TFloat}, {"ge", TCompare<kGe>},
      {">=", TCompare<kGe>}, {"gt", TCompare<kGt>}, {"greaterthan", TCompare<kGt>}, {">", TCompare<kGt>},
      {"in", TIn}, {"integer", TInteger}, {"iterable", TIterable}, {"le", TCompare<kLe>},
      {"<=", TCompare<kLe>}, {"lower", TLower}, {"lt", TCompare<kLt>}, {"lessthan", TCompare<kLt>},
      {"<", TCompare<kLt>}, {"mapping", TMapping}, {"ne", TCompare<kNe>}, {"!=", TCompare<kNe>},
      {"none", TNone}, {"number", TNumber}, {"odd", TOdd}, {"sameas", TSameAs}, {"sequence", TSequence},
      {"string", TString}, {"test", TTest}, {"true", TTrue}, {"undefined", TUndefined}, {"upper", TUpper},
  };
  return *table;
}

}  // namespace

TestFn FindTest(std::string_view name) {
  auto it = TestTable().find(name);
  return it == TestTable().end() ? nullptr : it->second;
}

}  // namespace ember::chat
