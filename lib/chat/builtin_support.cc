// BoundArgs and NamespaceObject (lib/chat/builtins.h).
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/chat/builtins.h"
#include "lib/chat/py_text.h"

namespace ember::chat {

absl::StatusOr<BoundArgs> BoundArgs::Bind(std::string_view function, const CallArgs& args,
                                          std::initializer_list<std::string_view> names) {
  BoundArgs b;
  b.values_.resize(names.size());
  b.given_.resize(names.size(), false);
  if (args.positional.size() > names.size()) {
    return absl::InvalidArgumentError(absl::StrCat(AV(function), "() takes at most ", names.size(), " argument(s) (",
                                                   args.positional.size(), " given)"));
  }
  for (size_t i = 0; i < args.positional.size(); ++i) {
    b.values_[i] = args.positional[i];
    b.given_[i] = true;
  }
  for (const auto& [key, value] : args.keyword) {
    size_t i = 0;
    for (std::string_view n : names) {
      if (n == key) break;
      ++i;
    }
    if (i == names.size()) {
      return absl::InvalidArgumentError(absl::StrCat(AV(function), "() got an unexpected keyword argument '", key, "'"));
    }
    if (b.given_[i]) {
      return absl::InvalidArgumentError(absl::StrCat(AV(function), "() got multiple values for argument '", key, "'"));
    }
    b.values_[i] = value;
    b.given_[i] = true;
  }
  return b;
}

Value NamespaceObject::GetAttr(std::string_view name) const {
  const Value* v = attrs_.FindString(name);
  if (v != nullptr) return *v;
  return Value::Undefined("'Namespace' object has no attribute '" + std::string(name) + "'");
}

bool NamespaceObject::SetAttr(std::string_view name, Value value) {
  depth_ = std::max(depth_, value.depth() + 1);
  attrs_.Set(Value::String(std::string(name)), std::move(value));
  return true;
}

std::string NamespaceObject::Str() const {
  std::string out = "<Namespace {";
  bool first = true;
  for (const auto& [k, v] : attrs_.entries()) {
    if (!first) out += ", ";
    first = false;
    // Values are printed shallowly: a namespace may hold itself.
    out += PyRepr(k) + ": " + (v.is_object() ? "<" + v.TypeName() + ">" : PyRepr(v));
  }
  return out + "}>";
}

}  // namespace ember::chat
