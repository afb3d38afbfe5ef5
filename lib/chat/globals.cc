// Global functions: jinja2's range / dict / namespace / cycler / joiner, and the two
// transformers adds, raise_exception and strftime_now.
#include <ctime>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/platform.h"
#include "lib/chat/builtins.h"
#include "lib/chat/interpreter.h"
#include "lib/chat/py_text.h"

namespace ember::chat {

namespace {

// jinja2's sandbox refuses ranges longer than this.
constexpr int64_t kMaxRange = 100000;

absl::StatusOr<Value> Range(Interpreter& interp, CallArgs& a) {
  if (!a.keyword.empty()) return absl::InvalidArgumentError("range() takes no keyword arguments");
  std::vector<int64_t> n;
  for (const Value& v : a.positional) {
    if (!(v.is_int() || v.is_bool())) return absl::InvalidArgumentError("'" + v.TypeName() + "' object cannot be interpreted as an integer");
    n.push_back(v.as_int());
  }
  int64_t start = 0, stop = 0, step = 1;
  if (n.size() == 1) stop = n[0];
  else if (n.size() == 2 || n.size() == 3) {
    start = n[0];
    stop = n[1];
    if (n.size() == 3) step = n[2];
  } else {
    return absl::InvalidArgumentError("range expected 1 to 3 arguments, got " + std::to_string(n.size()));
  }
  if (step == 0) return absl::InvalidArgumentError("range() arg 3 must not be zero");
  const __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  const __int128 abs_step = step > 0 ? step : -static_cast<__int128>(step);
  const __int128 count = span <= 0 ? 0 : (span + abs_step - 1) / abs_step;
  if (count > kMaxRange) {
    return absl::InvalidArgumentError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  EMBER_RETURN_IF_ERROR(interp.Tick(static_cast<uint64_t>(count) / 16));
  ValueList out;
  out.reserve(static_cast<size_t>(count));
  for (__int128 i = 0; i < count; ++i) out.push_back(Value::Int(static_cast<int64_t>(start + i * step)));
  return Value::List(std::move(out));
}

absl::StatusOr<Value> MakeDict(Interpreter&, CallArgs& a) {
  auto dict = std::make_shared<Dict>();
  if (a.positional.size() > 1) return absl::InvalidArgumentError("dict expected at most 1 argument");
  if (a.positional.size() == 1) {
    const Value& src = a.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.dict().entries()) dict->Set(k, v);
    } else if (src.is_sequence()) {
      for (const Value& pair : src.items()) {
        if (!pair.is_sequence() || pair.items().size() != 2) {
          return absl::InvalidArgumentError("dictionary update sequence element has wrong length");
        }
        dict->Set(pair.items()[0], pair.items()[1]);
      }
    } else {
      return absl::InvalidArgumentError("'" + src.TypeName() + "' object is not iterable");
    }
  }
  for (const auto& [k, v] : a.keyword) dict->Set(Value::String(k), v);
  return Value::FromDict(std::move(dict));
}

absl::StatusOr<Value> MakeNamespace(Interpreter& interp, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(Value init, MakeDict(interp, a));
  auto ns = std::make_shared<NamespaceObject>();
  for (const auto& [k, v] : init.dict().entries()) {
    if (!k.is_string()) return absl::InvalidArgumentError("namespace keys must be strings");
    ns->SetAttr(k.str(), v);
  }
  interp.Track(ns);
  return Value::FromObject(std::move(ns));
}

absl::StatusOr<Value> RaiseException(Interpreter&, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("raise_exception", a, {"message"}));
  return absl::InvalidArgumentError(b.Get(0) ? PyStr(*b.Get(0)) : std::string("raise_exception() called"));
}

absl::StatusOr<Value> StrftimeNow(Interpreter&, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("strftime_now", a, {"format"}));
  if (!b.Get(0) || !b.Get(0)->is_string()) return absl::InvalidArgumentError("strftime_now() needs a format string");
  const std::time_t now = std::time(nullptr);
  const std::tm local = LocalTime(now);
  char buf[512];
  const size_t n = std::strftime(buf, sizeof buf, b.Get(0)->str().c_str(), &local);
  return Value::String(std::string(buf, n));
}

absl::StatusOr<Value> MakeJoiner(Interpreter&, CallArgs& a) {
  EMBER_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("joiner", a, {"sep"}));
  const std::string sep = b.Get(0) ? PyStr(*b.Get(0)) : ", ";
  auto used = std::make_shared<bool>(false);
  return Value::FromObject(std::make_shared<NativeFunction>("joiner", [sep, used](Interpreter&, CallArgs&) -> absl::StatusOr<Value> {
    if (!*used) {
      *used = true;
      return Value::String("");
    }
    return Value::String(sep);
  }));
}

const absl::flat_hash_map<std::string_view, Value>& GlobalTable() {
  static const auto* table = [] {
    auto* t = new absl::flat_hash_map<std::string_view, Value>();
    auto add = [&](std::string_view name, NativeFunction::Fn fn) {
      (*t)[name] = Value::FromObject(std::make_shared<NativeFunction>(std::string(name), std::move(fn)));
    };
    add("range", Range);
    add("dict", MakeDict);
    add("namespace", MakeNamespace);
    add("raise_exception", RaiseException);
    add("strftime_now", StrftimeNow);
    add("joiner", MakeJoiner);
    return t;
  }();
  return *table;
}

}  // namespace

Value FindGlobal(std::string_view name) {
  auto it = GlobalTable().find(name);
  return it == GlobalTable().end() ? Value::Undefined() : it->second;
}

}  // namespace ember::chat
