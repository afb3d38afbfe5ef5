// The names a template can call beyond its own macros: jinja2's filters and tests (plus
// transformers' `tojson`), the str/dict/list methods chat templates use, and the globals
// (range, namespace, dict, cycler, joiner, raise_exception, strftime_now). Mutating
// methods (list.append, dict.update, ...) do not exist here, as in jinja2's
// ImmutableSandboxedEnvironment, and nothing reaches past the data into the host.
#ifndef EMBER_CHAT_BUILTINS_H_
#define EMBER_CHAT_BUILTINS_H_

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/chat/value.h"

namespace ember::chat {

class Interpreter;

using FilterFn = absl::StatusOr<Value> (*)(Interpreter&, const Value&, CallArgs&);
using TestFn = absl::StatusOr<bool> (*)(Interpreter&, const Value&, CallArgs&);

FilterFn FindFilter(std::string_view name);  // nullptr if unknown
TestFn FindTest(std::string_view name);      // nullptr if unknown
// A bound method of a str, dict, list or tuple; Undefined (with jinja2's message) if the
// type has no such safe method.
Value GetMethod(const Value& receiver, std::string_view name);
bool IsDictMethod(std::string_view name);
// A global function; Undefined if there is none by that name.
Value FindGlobal(std::string_view name);

// Python-style argument binding: positional arguments fill `names` in order, keywords by
// name; too many or unknown arguments are errors naming `function`.
class BoundArgs {
 public:
  static absl::StatusOr<BoundArgs> Bind(std::string_view function, const CallArgs& args,
                                        std::initializer_list<std::string_view> names);
  const Value* Get(size_t i) const { return given_[i] ? &values_[i] : nullptr; }
  Value GetOr(size_t i, Value fallback) const { return given_[i] ? values_[i] : std::move(fallback); }

 private:
  std::vector<Value> values_;
  std::vector<bool> given_;
};

// A function implemented in C++ (globals, loop.cycle, bound methods...).
class NativeFunction : public Object {
 public:
  using Fn = std::function<absl::StatusOr<Value>(Interpreter&, CallArgs&)>;
  // `depth`: nesting of the values `fn` holds (a bound method holds its receiver).
  NativeFunction(std::string name, Fn fn, uint32_t depth = 0)
      : name_(std::move(name)), fn_(std::move(fn)), depth_(depth) {}
  std::string TypeName() const override { return "builtin_function_or_method"; }
  bool callable() const override { return true; }
  absl::StatusOr<Value> Call(Interpreter& interp, CallArgs& args) override { return fn_(interp, args); }
  std::string Str() const override { return "<built-in function " + name_ + ">"; }
  uint32_t depth() const override { return depth_; }

 private:
  std::string name_;
  Fn fn_;
  uint32_t depth_;
};

// jinja2's namespace(): the one mutable object, assigned with `set ns.attr = value`.
class NamespaceObject : public Object {
 public:
  std::string TypeName() const override { return "Namespace"; }
  Value GetAttr(std::string_view name) const override;
  bool SetAttr(std::string_view name, Value value) override;
  std::string Str() const override;
  void BreakCycles() override { attrs_ = Dict(); }
  uint32_t depth() const override { return depth_; }

 private:
  Dict attrs_;
  uint32_t depth_ = 1;
};

}  // namespace ember::chat

#endif  // EMBER_CHAT_BUILTINS_H_
