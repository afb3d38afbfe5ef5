#include "lib/chat/interpreter.h"

#include <utility>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/chat/builtins.h"
#include "lib/chat/operators.h"
#include "lib/chat/py_string.h"
#include "lib/chat/py_text.h"

namespace ember::chat {

namespace {

// A `{% macro %}` (or the body of a `{% call %}` block, bound as `caller`): a function
// closing over the scope it was defined in.
class MacroObject : public Object {
 public:
  MacroObject(const std::string& name, const std::vector<MacroParam>* params, const Body* body, ScopePtr scope)
      : name_(name), params_(params), body_(body), scope_(std::move(scope)) {}
  std::string TypeName() const override { return "Macro"; }
  bool callable() const override { return true; }
  std::string Str() const override { return "<Macro '" + name_ + "'>"; }
  void BreakCycles() override { scope_.reset(); }

  absl::StatusOr<Value> Call(Interpreter& interp, CallArgs& args) override {
    if (!scope_) return absl::InvalidArgumentError("macro '" + name_ + "' called after the render ended");
    EMBER_RETURN_IF_ERROR(interp.EnterCall());
    auto result = Run(interp, args);
    interp.LeaveCall();
    return result;
  }

 private:
  absl::StatusOr<Value> Run(Interpreter& interp, CallArgs& args) {
    auto scope = std::make_shared<Scope>();
    scope->parent = scope_;
    const std::vector<MacroParam>& params = *params_;
    std::vector<bool> bound(params.size(), false);
    ValueList varargs;
    for (size_t i = 0; i < args.positional.size(); ++i) {
      if (i < params.size()) {
        scope->vars[params[i].name] = args.positional[i];
        bound[i] = true;
      } else {
        varargs.push_back(args.positional[i]);
      }
    }
    auto kwargs = std::make_shared<Dict>();
    for (auto& [key, value] : args.keyword) {
      bool matched = false;
      for (size_t i = 0; i < params.size(); ++i) {
        if (params[i].name != key) continue;
        if (bound[i]) return absl::InvalidArgumentError("macro '" + name_ + "' got multiple values for argument '" + key + "'");
        scope->vars[key] = value;
        bound[i] = matched = true;
      }
      if (matched) continue;
      if (key == "caller") scope->vars["caller"] = value;
      else kwargs->Set(Value::String(key), value);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (bound[i]) continue;
      if (params[i].default_value) {
        EMBER_ASSIGN_OR_RETURN(scope->vars[params[i].name], interp.Eval(*params[i].default_value, scope));
      } else {
        scope->vars[params[i].name] = Value::Undefined("parameter '" + params[i].name + "' was not provided");
      }
    }
    scope->vars["varargs"] = Value::Tuple(std::move(varargs));
    scope->vars["kwargs"] = Value::FromDict(std::move(kwargs));
    std::string out;
    Interpreter::Flow flow = Interpreter::Flow::kNormal;
    EMBER_RETURN_IF_ERROR(interp.RenderBody(*body_, scope, &out, &flow));
    return Value::String(std::move(out));
  }

  std::string name_;
  const std::vector<MacroParam>* params_;
  const Body* body_;
  ScopePtr scope_;
};

// The `loop` variable of a for loop.
class LoopObject : public Object, public std::enable_shared_from_this<LoopObject> {
 public:
  LoopObject(const Stmt* stmt, ScopePtr scope, ValueList items, int depth)
      : stmt_(stmt), scope_(std::move(scope)), items_(std::move(items)), depth_(depth) {}
  std::string TypeName() const override { return "LoopContext"; }
  bool callable() const override { return true; }
  void BreakCycles() override { scope_.reset(); }
  void set_index(size_t i) { index_ = i; }

  Value GetAttr(std::string_view name) const override {
    const int64_t n = static_cast<int64_t>(items_.size());
    const int64_t i = static_cast<int64_t>(index_);
    if (name == "index") return Value::Int(i + 1);
    if (name == "index0") return Value::Int(i);
    if (name == "revindex") return Value::Int(n - i);
    if (name == "revindex0") return Value::Int(n - i - 1);
    if (name == "first") return Value::Bool(i == 0);
    if (name == "last") return Value::Bool(i == n - 1);
    if (name == "length") return Value::Int(n);
    if (name == "depth") return Value::Int(depth_);
    if (name == "depth0") return Value::Int(depth_ - 1);
    if (name == "previtem") return i > 0 ? items_[i - 1] : Value::Undefined("there is no previous item");
    if (name == "nextitem") return i + 1 < n ? items_[i + 1] : Value::Undefined("there is no next item");
    if (name == "cycle") {
      const size_t idx = index_;
      return Value::FromObject(std::make_shared<NativeFunction>("cycle", [idx](Interpreter&, CallArgs& args) -> absl::StatusOr<Value> {
        if (args.positional.empty()) return absl::InvalidArgumentError("no items for cycling given");
        return args.positional[idx % args.positional.size()];
      }));
    }
    if (name == "changed") {
      auto self = std::const_pointer_cast<LoopObject>(shared_from_this());
      return Value::FromObject(std::make_shared<NativeFunction>("changed", [self](Interpreter&, CallArgs& args) -> absl::StatusOr<Value> {
        Value now = Value::List(args.positional);
        if (self->has_last_changed_ && PyEquals(self->last_changed_, now)) return Value::Bool(false);
        self->last_changed_ = std::move(now);
        self->has_last_changed_ = true;
        return Value::Bool(true);
      }));
    }
    return Value::Undefined("'LoopContext' object has no attribute '" + std::string(name) + "'");
  }

  absl::StatusOr<Value> Call(Interpreter& interp, CallArgs& args) override {
    if (!stmt_->recursive) {
      return absl::InvalidArgumentError("Tried to call non recursive loop. Maybe you forgot the 'recursive' modifier.");
    }
    if (args.positional.size() != 1 || !args.keyword.empty()) {
      return absl::InvalidArgumentError("loop() takes exactly one argument");
    }
    if (!scope_) return absl::InvalidArgumentError("loop called after the render ended");
    EMBER_ASSIGN_OR_RETURN(ValueList items, IterateValue(args.positional[0]));
    EMBER_RETURN_IF_ERROR(interp.EnterCall());
    std::string out;
    absl::Status st = interp.RunLoop(*stmt_, items, depth_ + 1, scope_, &out);
    interp.LeaveCall();
    EMBER_RETURN_IF_ERROR(st);
    return Value::String(std::move(out));
  }

 private:
  const Stmt* stmt_;
  ScopePtr scope_;
  ValueList items_;
  int depth_;
  size_t index_ = 0;
  Value last_changed_;
  bool has_last_changed_ = false;
};

std::string ObjectTypeRepr(const Value& v) {
  if (v.is_none()) return "None";
  return v.TypeName() + " object";
}

absl::StatusOr<int64_t> SliceBound(const Value& v) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  return absl::InvalidArgumentError("slice indices must be integers or None");
}

}  // namespace

absl::StatusOr<ValueList> IterateValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kList:
    case Value::Kind::kTuple:
    case Value::Kind::kGenerator: return v.items();
    case Value::Kind::kDict: {
      ValueList keys;
      keys.reserve(v.dict().size());
      for (const auto& [k, val] : v.dict().entries()) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      ValueList chars;
      for (char32_t cp : ToCodePoints(v.str())) chars.push_back(Value::String(FromCodePoints(std::u32string(1, cp))));
      return chars;
    }
    case Value::Kind::kUndefined: return ValueList();
    default:
      return absl::InvalidArgumentError("'" + v.TypeName() + "' object is not iterable");
  }
}

Interpreter::Interpreter(const RenderLimits& limits) : limits_(limits) {}

Interpreter::~Interpreter() {
  for (auto& o : tracked_) o->BreakCycles();
}

absl::StatusOr<std::string> Interpreter::Render(const Body& body, const Value& context) {
  deadline_ = absl::Now() + limits_.max_time;
  auto root = std::make_shared<Scope>();
  for (const auto& [k, v] : context.dict().entries()) {
    if (k.is_string()) root->vars[k.str()] = v;
  }
  std::string out;
  Flow flow = Flow::kNormal;
  absl::Status st = RenderBody(body, root, &out, &flow);
  for (auto& o : tracked_) o->BreakCycles();
  tracked_.clear();
  root->vars.clear();
  if (!st.ok()) {
    return absl::Status(st.code(), absl::StrCat("template error (line ", error_line_, "): ", st.message()));
  }
  return out;
}

absl::Status Interpreter::Tick(uint64_t n) {
  iterations_ += n;
  if (iterations_ > limits_.max_loop_iterations) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: more than ", limits_.max_loop_iterations, " loop iterations"));
  }
  ticks_ += n;
  if (ticks_ >= 16) {
    ticks_ = 0;
    if (absl::Now() > deadline_) {
      return absl::InvalidArgumentError(absl::StrCat("render limit: took longer than ", absl::FormatDuration(limits_.max_time)));
    }
  }
  return absl::OkStatus();
}

absl::Status Interpreter::CheckStringSize(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: a string would exceed ", limits_.max_output_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status Interpreter::CheckListSize(size_t items) const {
  if (items > limits_.max_list_items) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: a list would exceed ", limits_.max_list_items, " items"));
  }
  return absl::OkStatus();
}

absl::Status Interpreter::EnterCall() {
  if (call_depth_ >= limits_.max_call_depth) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: calls nest deeper than ", limits_.max_call_depth));
  }
  ++call_depth_;
  if (absl::Now() > deadline_) {
    --call_depth_;
    return absl::InvalidArgumentError(absl::StrCat("render limit: took longer than ", absl::FormatDuration(limits_.max_time)));
  }
  return absl::OkStatus();
}

absl::Status Interpreter::Append(std::string* out, std::string_view text) const {
  if (out->size() + text.size() > limits_.max_output_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: output exceeds ", limits_.max_output_bytes, " bytes"));
  }
  out->append(text);
  return absl::OkStatus();
}

absl::Status Interpreter::RenderBody(const Body& body, const ScopePtr& scope, std::string* out, Flow* flow) {
  for (const StmtPtr& s : body) {
    absl::Status st = RenderStmt(*s, scope, out, flow);
    if (!st.ok()) {
      if (error_line_ == 0) error_line_ = s->line;
      return st;
    }
    if (*flow != Flow::kNormal) return absl::OkStatus();
  }
  return absl::OkStatus();
}

namespace {
// Counts one level of nesting for the duration of a RenderStmt / Eval.
class NestingScope {
 public:
  explicit NestingScope(int* n) : n_(n) { ++*n_; }
  ~NestingScope() { --*n_; }
  NestingScope(const NestingScope&) = delete;
  NestingScope& operator=(const NestingScope&) = delete;

 private:
  int* n_;
};
}  // namespace

absl::Status Interpreter::RenderStmt(const Stmt& s, const ScopePtr& scope, std::string* out, Flow* flow) {
  NestingScope nesting(&nesting_);
  if (nesting_ > limits_.max_nesting) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: evaluation nests deeper than ", limits_.max_nesting));
  }
  return RenderStmtInner(s, scope, out, flow);
}

absl::StatusOr<Value> Interpreter::Eval(const Expr& e, const ScopePtr& scope) {
  NestingScope nesting(&nesting_);
  if (nesting_ > limits_.max_nesting) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: evaluation nests deeper than ", limits_.max_nesting));
  }
  return EvalInner(e, scope);
}

absl::Status Interpreter::RenderStmtInner(const Stmt& s, const ScopePtr& scope, std::string* out, Flow* flow) {
  switch (s.kind) {
    case Stmt::Kind::kText:
      return Append(out, s.text);
    case Stmt::Kind::kOutput: {
      EMBER_ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
      if (v.is_string()) return Append(out, v.str());
      return Append(out, PyStr(v, limits_.max_output_bytes));
    }
    case Stmt::Kind::kIf:
      for (const auto& [cond, body] : s.branches) {
        EMBER_ASSIGN_OR_RETURN(Value c, Eval(*cond, scope));
        if (c.Truthy()) return RenderBody(body, scope, out, flow);
      }
      return RenderBody(s.else_body, scope, out, flow);
    case Stmt::Kind::kFor: {
      EMBER_ASSIGN_OR_RETURN(Value iterable, Eval(*s.expr, scope));
      EMBER_ASSIGN_OR_RETURN(ValueList items, IterateValue(iterable));
      return RunLoop(s, items, 1, scope, out);
    }
    case Stmt::Kind::kSet: {
      EMBER_ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
      return Assign(s.target, v, scope);
    }
    case Stmt::Kind::kSetBlock:
    case Stmt::Kind::kFilterBlock: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      std::string text;
      Flow inner_flow = Flow::kNormal;
      EMBER_RETURN_IF_ERROR(RenderBody(s.body, inner, &text, &inner_flow));
      Value v = Value::String(std::move(text));
      if (s.expr) {
        EMBER_ASSIGN_OR_RETURN(v, EvalFilterChain(*s.expr, scope, &v));
      }
      if (s.kind == Stmt::Kind::kSetBlock) return Assign(s.target, v, scope);
      return Append(out, PyStr(v, limits_.max_output_bytes));
    }
    case Stmt::Kind::kMacro: {
      auto macro = std::make_shared<MacroObject>(s.name, &s.params, &s.body, scope);
      Track(macro);
      scope->vars[s.name] = Value::FromObject(std::move(macro));
      return absl::OkStatus();
    }
    case Stmt::Kind::kCallBlock: {
      auto caller = std::make_shared<MacroObject>("caller", &s.params, &s.body, scope);
      Track(caller);
      const Expr& call = *s.expr;
      EMBER_ASSIGN_OR_RETURN(Value callee, Eval(*call.a, scope));
      CallArgs args;
      EMBER_RETURN_IF_ERROR(EvalArgs(call.args, scope, &args));
      args.keyword.emplace_back("caller", Value::FromObject(std::move(caller)));
      EMBER_ASSIGN_OR_RETURN(Value result, CallValue(callee, args));
      return Append(out, PyStr(result));
    }
    case Stmt::Kind::kWith: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      for (const auto& [target, expr] : s.assignments) {
        EMBER_ASSIGN_OR_RETURN(Value v, Eval(*expr, scope));
        EMBER_RETURN_IF_ERROR(Assign(target, v, inner));
      }
      return RenderBody(s.body, inner, out, flow);
    }
    case Stmt::Kind::kBreak:
      *flow = Flow::kBreak;
      return absl::OkStatus();
    case Stmt::Kind::kContinue:
      *flow = Flow::kContinue;
      return absl::OkStatus();
  }
  return absl::InternalError("unknown statement");
}

absl::Status Interpreter::RunLoop(const Stmt& s, const ValueList& all_items, int depth, const ScopePtr& scope,
                                  std::string* out) {
  ValueList filtered;
  const ValueList* items = &all_items;
  if (s.cond) {
    for (const Value& item : all_items) {
      EMBER_RETURN_IF_ERROR(Tick());
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      EMBER_RETURN_IF_ERROR(Assign(s.target, item, inner));
      EMBER_ASSIGN_OR_RETURN(Value keep, Eval(*s.cond, inner));
      if (keep.Truthy()) filtered.push_back(item);
    }
    items = &filtered;
  }
  if (items->empty()) {
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    Flow flow = Flow::kNormal;
    return RenderBody(s.else_body, inner, out, &flow);
  }
  auto loop = std::make_shared<LoopObject>(&s, scope, *items, depth);
  Track(loop);
  const Value loop_value = Value::FromObject(loop);
  for (size_t i = 0; i < items->size(); ++i) {
    EMBER_RETURN_IF_ERROR(Tick());
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    EMBER_RETURN_IF_ERROR(Assign(s.target, (*items)[i], inner));
    loop->set_index(i);
    inner->vars["loop"] = loop_value;
    Flow flow = Flow::kNormal;
    EMBER_RETURN_IF_ERROR(RenderBody(s.body, inner, out, &flow));
    if (flow == Flow::kBreak) break;
  }
  return absl::OkStatus();
}

absl::Status Interpreter::Assign(const Target& target, const Value& value, const ScopePtr& scope) {
  if (value.depth() > kMaxValueDepth) {
    return absl::InvalidArgumentError(absl::StrCat("render limit: a value nests deeper than ", kMaxValueDepth));
  }
  if (!target.attr.empty()) {
    EMBER_ASSIGN_OR_RETURN(Value ns, Lookup(target.names[0], scope));
    if (!ns.is_object() || !ns.object()->SetAttr(target.attr, value)) {
      return absl::InvalidArgumentError("cannot assign attribute on non-namespace object");
    }
    if (ns.depth() > kMaxValueDepth) {
      return absl::InvalidArgumentError(absl::StrCat("render limit: a value nests deeper than ", kMaxValueDepth));
    }
    return absl::OkStatus();
  }
  if (target.names.size() == 1) {
    scope->vars[target.names[0]] = value;
    return absl::OkStatus();
  }
  EMBER_ASSIGN_OR_RETURN(ValueList parts, IterateValue(value));
  if (value.is_undefined()) return UndefinedError(value);
  if (parts.size() != target.names.size()) {
    return absl::InvalidArgumentError(parts.size() > target.names.size()
                                          ? absl::StrCat("too many values to unpack (expected ", target.names.size(), ")")
                                          : absl::StrCat("not enough values to unpack (expected ", target.names.size(), ", got ", parts.size(), ")"));
  }
  for (size_t i = 0; i < parts.size(); ++i) scope->vars[target.names[i]] = parts[i];
  return absl::OkStatus();
}

absl::StatusOr<Value> Interpreter::Lookup(const std::string& name, const ScopePtr& scope) const {
  for (const Scope* s = scope.get(); s != nullptr; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return it->second;
  }
  Value g = FindGlobal(name);
  if (!g.is_undefined()) return g;
  return Value::Undefined("'" + name + "' is undefined");
}

absl::Status Interpreter::EvalArgs(const CallArgExprs& exprs, const ScopePtr& scope, CallArgs* args) {
  for (const ExprPtr& e : exprs.positional) {
    EMBER_ASSIGN_OR_RETURN(Value v, Eval(*e, scope));
    args->positional.push_back(std::move(v));
  }
  for (const auto& [name, e] : exprs.keyword) {
    EMBER_ASSIGN_OR_RETURN(Value v, Eval(*e, scope));
    args->keyword.emplace_back(name, std::move(v));
  }
  if (exprs.star) {
    EMBER_ASSIGN_OR_RETURN(Value v, Eval(*exprs.star, scope));
    EMBER_ASSIGN_OR_RETURN(ValueList items, IterateValue(v));
    for (Value& item : items) args->positional.push_back(std::move(item));
  }
  if (exprs.double_star) {
    EMBER_ASSIGN_OR_RETURN(Value v, Eval(*exprs.double_star, scope));
    if (!v.is_dict()) return absl::InvalidArgumentError("argument after ** must be a mapping, not " + v.TypeName());
    for (const auto& [k, val] : v.dict().entries()) {
      if (!k.is_string()) return absl::InvalidArgumentError("keywords must be strings");
      args->keyword.emplace_back(k.str(), val);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> Interpreter::CallValue(const Value& callee, CallArgs& args) {
  if (callee.is_object() && callee.object()->callable()) return callee.object()->Call(*this, args);
  if (callee.is_undefined()) return UndefinedError(callee);
  return absl::InvalidArgumentError("'" + callee.TypeName() + "' object is not callable");
}

absl::StatusOr<Value> Interpreter::ApplyFilter(std::string_view name, const Value& operand, CallArgs& args) {
  FilterFn f = FindFilter(name);
  if (f == nullptr) return absl::InvalidArgumentError("no filter named '" + std::string(name) + "'");
  return f(*this, operand, args);
}

absl::StatusOr<bool> Interpreter::ApplyTest(std::string_view name, const Value& operand, CallArgs& args) {
  TestFn t = FindTest(name);
  if (t == nullptr) return absl::InvalidArgumentError("no test named '" + std::string(name) + "'");
  return t(*this, operand, args);
}

absl::StatusOr<Value> Interpreter::GetAttr(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined:
      return UndefinedError(obj);
    case Value::Kind::kDict: {
      if (IsDictMethod(name)) return GetMethod(obj, name);
      const Value* v = obj.dict().FindString(name);
      if (v != nullptr) return *v;
      break;
    }
    case Value::Kind::kString:
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return GetMethod(obj, name);
    case Value::Kind::kObject: {
      Value v = obj.object()->GetAttr(name);
      if (!v.is_undefined() || !v.str().empty()) return v;
      break;
    }
    default:
      break;
  }
  return Value::Undefined("'" + ObjectTypeRepr(obj) + "' has no attribute '" + std::string(name) + "'");
}

absl::StatusOr<Value> Interpreter::GetItem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined:
      return UndefinedError(obj);
    case Value::Kind::kDict: {
      const Value* v = obj.dict().Find(key);
      if (v != nullptr) return *v;
      if (key.is_string() && IsDictMethod(key.str())) return GetMethod(obj, key.str());
      break;
    }
    case Value::Kind::kList:
    case Value::Kind::kTuple:
    case Value::Kind::kString: {
      if (key.is_int() || key.is_bool()) {
        int64_t i = 0;
        if (obj.is_string()) {
          std::u32string cps = ToCodePoints(obj.str());
          if (PyIndex(key.as_int(), static_cast<int64_t>(cps.size()), &i)) return Value::String(FromCodePoints(cps.substr(i, 1)));
        } else if (PyIndex(key.as_int(), static_cast<int64_t>(obj.items().size()), &i)) {
          return obj.items()[i];
        }
        return Value::Undefined("'" + ObjectTypeRepr(obj) + "' has no element " + PyRepr(key));
      }
      if (key.is_string()) return GetMethod(obj, key.str());
      break;
    }
    case Value::Kind::kObject:
      if (key.is_string()) return GetAttr(obj, key.str());
      break;
    default:
      break;
  }
  if (key.is_string()) return Value::Undefined("'" + ObjectTypeRepr(obj) + "' has no attribute '" + key.str() + "'");
  return Value::Undefined("'" + ObjectTypeRepr(obj) + "' has no element " + PyRepr(key));
}

absl::StatusOr<Value> Interpreter::EvalFilterChain(const Expr& e, const ScopePtr& scope, const Value* block_text) {
  Value operand;
  if (e.a && e.a->kind == Expr::Kind::kFilter) {
    EMBER_ASSIGN_OR_RETURN(operand, EvalFilterChain(*e.a, scope, block_text));
  } else if (e.a) {
    EMBER_ASSIGN_OR_RETURN(operand, Eval(*e.a, scope));
  } else if (block_text != nullptr) {
    operand = *block_text;
  } else {
    return absl::InternalError("filter without operand");
  }
  CallArgs args;
  EMBER_RETURN_IF_ERROR(EvalArgs(e.args, scope, &args));
  EMBER_ASSIGN_OR_RETURN(Value result, ApplyFilter(e.name, operand, args));
  if (result.is_string()) EMBER_RETURN_IF_ERROR(CheckStringSize(result.str().size()));
  return result;
}

absl::StatusOr<Value> Interpreter::EvalInner(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case Expr::Kind::kConst:
      return e.value;
    case Expr::Kind::kName:
      return Lookup(e.name, scope);
    case Expr::Kind::kList:
    case Expr::Kind::kTuple:
      return EvalSequence(e, scope);
    case Expr::Kind::kDict:
      return EvalDict(e, scope);
    case Expr::Kind::kGetAttr:
      return EvalGetAttr(e, scope);
    case Expr::Kind::kGetItem:
      return EvalGetItem(e, scope);
    case Expr::Kind::kSlice:
      return EvalSlice(e, scope);
    case Expr::Kind::kCall:
      return EvalCall(e, scope);
    case Expr::Kind::kFilter:
      return EvalFilterChain(e, scope, nullptr);
    case Expr::Kind::kTest:
      return EvalTest(e, scope);
    case Expr::Kind::kNot:
      return EvalNot(e, scope);
    case Expr::Kind::kNeg:
    case Expr::Kind::kPos:
      return EvalSign(e, scope);
    case Expr::Kind::kBinary:
      return EvalBinary(e, scope);
    case Expr::Kind::kAnd:
      return EvalAnd(e, scope);
    case Expr::Kind::kOr:
      return EvalOr(e, scope);
    case Expr::Kind::kCompare:
      return EvalCompare(e, scope);
    case Expr::Kind::kCondition:
      return EvalCondition(e, scope);
  }
  return absl::InternalError("unknown expression");
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalSequence(const Expr& e, const ScopePtr& scope) {
      ValueList items;
      items.reserve(e.items.size());
      for (const ExprPtr& item : e.items) {
        EMBER_ASSIGN_OR_RETURN(Value v, Eval(*item, scope));
        items.push_back(std::move(v));
      }
      return e.kind == Expr::Kind::kList ? Value::List(std::move(items)) : Value::Tuple(std::move(items));
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalDict(const Expr& e, const ScopePtr& scope) {
      auto dict = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        EMBER_ASSIGN_OR_RETURN(Value k, Eval(*e.items[i], scope));
        EMBER_ASSIGN_OR_RETURN(Value v, Eval(*e.items[i + 1], scope));
        if (!(k.is_string() || k.is_number() || k.is_none() || k.is_tuple())) {
          return absl::InvalidArgumentError("unhashable type: '" + k.TypeName() + "'");
        }
        dict->Set(std::move(k), std::move(v));
      }
      return Value::FromDict(std::move(dict));
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalGetAttr(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
      return GetAttr(obj, e.name);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalGetItem(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
      EMBER_ASSIGN_OR_RETURN(Value key, Eval(*e.b, scope));
      return GetItem(obj, key);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalSlice(const Expr& e, const ScopePtr& scope) {
      // A slice that is one item of a tuple subscript (`s[::, 1]`) has no object of its own:
      // jinja2 hands the tuple to the object, and no string, list or dict takes one.
      if (e.a == nullptr) return absl::InvalidArgumentError("indices must be integers or slices, not tuple");
      EMBER_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
      int64_t bounds[3] = {0, 0, 1};
      bool given[3] = {false, false, false};
      const Expr* parts[3] = {e.b.get(), e.c.get(), e.d.get()};
      for (int i = 0; i < 3; ++i) {
        if (parts[i] == nullptr) continue;
        EMBER_ASSIGN_OR_RETURN(Value v, Eval(*parts[i], scope));
        if (v.is_none()) continue;
        EMBER_ASSIGN_OR_RETURN(bounds[i], SliceBound(v));
        given[i] = true;
      }
      if (bounds[2] == 0) return absl::InvalidArgumentError("slice step cannot be zero");
      if (obj.is_undefined()) return UndefinedError(obj);
      if (obj.is_string()) {
        std::u32string cps = ToCodePoints(obj.str());
        std::u32string out;
        for (int64_t i : PySliceIndices(given[0] ? &bounds[0] : nullptr, given[1] ? &bounds[1] : nullptr, bounds[2],
                                        static_cast<int64_t>(cps.size()))) {
          out.push_back(cps[i]);
        }
        return Value::String(FromCodePoints(out), obj.safe());
      }
      if (obj.is_sequence()) {
        ValueList out;
        for (int64_t i : PySliceIndices(given[0] ? &bounds[0] : nullptr, given[1] ? &bounds[1] : nullptr, bounds[2],
                                        static_cast<int64_t>(obj.items().size()))) {
          out.push_back(obj.items()[i]);
        }
        return obj.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
      }
      return absl::InvalidArgumentError("'" + obj.TypeName() + "' object is not subscriptable");
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalCall(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value callee, Eval(*e.a, scope));
      CallArgs args;
      EMBER_RETURN_IF_ERROR(EvalArgs(e.args, scope, &args));
      EMBER_ASSIGN_OR_RETURN(Value result, CallValue(callee, args));
      if (result.is_string()) EMBER_RETURN_IF_ERROR(CheckStringSize(result.str().size()));
      return result;
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalTest(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value operand, Eval(*e.a, scope));
      CallArgs args;
      EMBER_RETURN_IF_ERROR(EvalArgs(e.args, scope, &args));
      EMBER_ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, operand, args));
      return Value::Bool(r != e.negated);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalNot(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value v, Eval(*e.a, scope));
      return Value::Bool(!v.Truthy());
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalSign(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value v, Eval(*e.a, scope));
      return Negate(v, e.kind == Expr::Kind::kNeg);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalBinary(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value a, Eval(*e.a, scope));
      EMBER_ASSIGN_OR_RETURN(Value b, Eval(*e.b, scope));
      return BinaryOp(*this, e.name, a, b);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalAnd(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value a, Eval(*e.a, scope));
      if (!a.Truthy()) return a;
      return Eval(*e.b, scope);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalOr(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value a, Eval(*e.a, scope));
      if (a.Truthy()) return a;
      return Eval(*e.b, scope);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalCompare(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value left, Eval(*e.a, scope));
      for (size_t i = 0; i < e.ops.size(); ++i) {
        EMBER_ASSIGN_OR_RETURN(Value right, Eval(*e.items[i], scope));
        EMBER_ASSIGN_OR_RETURN(bool ok, CompareOp(e.ops[i], left, right));
        if (!ok) return Value::Bool(false);
        left = std::move(right);
      }
      return Value::Bool(true);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Value> Interpreter::EvalCondition(const Expr& e, const ScopePtr& scope) {
      EMBER_ASSIGN_OR_RETURN(Value c, Eval(*e.a, scope));
      if (c.Truthy()) return Eval(*e.b, scope);
      if (e.c) return Eval(*e.c, scope);
      return Value::Undefined(absl::StrCat("the inline if-expression on line ", e.line,
                                           " evaluated to false and no else section was defined."));
}

}  // namespace ember::chat
