// Renders a parsed template: evaluates expressions with Python semantics and executes
// statements with jinja2's scoping (a `for` body and a macro call get their own scope;
// `if` does not), under the sandbox caps of RenderLimits. One Interpreter per render.
#ifndef EMBER_CHAT_INTERPRETER_H_
#define EMBER_CHAT_INTERPRETER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/chat/ast.h"
#include "lib/chat/limits.h"
#include "lib/chat/value.h"

namespace ember::chat {

struct Scope {
  std::shared_ptr<Scope> parent;
  absl::flat_hash_map<std::string, Value> vars;
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  explicit Interpreter(const RenderLimits& limits);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Renders `body` with `context` (a dict of variables). Errors are InvalidArgumentError
  // "template error (line N): ..." (raise_exception's message included verbatim).
  absl::StatusOr<std::string> Render(const Body& body, const Value& context);

  // ---- services for builtins ----
  const RenderLimits& limits() const { return limits_; }
  // Counts `n` loop iterations (and checks the time) against the caps.
  absl::Status Tick(uint64_t n = 1);
  // Fails if a string of `bytes` or a list of `items` would exceed the caps.
  absl::Status CheckStringSize(size_t bytes) const;
  absl::Status CheckListSize(size_t items) const;
  // Calls a callable value (macro, builtin, bound method).
  absl::StatusOr<Value> CallValue(const Value& callee, CallArgs& args);
  // Applies filter / test `name` (for map, select, ...).
  absl::StatusOr<Value> ApplyFilter(std::string_view name, const Value& operand, CallArgs& args);
  absl::StatusOr<bool> ApplyTest(std::string_view name, const Value& operand, CallArgs& args);
  // jinja2's environment.getattr / getitem, for attribute= arguments of filters.
  absl::StatusOr<Value> GetAttr(const Value& obj, std::string_view name);
  absl::StatusOr<Value> GetItem(const Value& obj, const Value& key);
  // Keeps an object whose references may form cycles, to break them when the render ends.
  void Track(std::shared_ptr<Object> object) { tracked_.push_back(std::move(object)); }

  // ---- used by macro, caller and loop objects ----
  absl::Status EnterCall();
  void LeaveCall() { --call_depth_; }
  enum class Flow { kNormal, kBreak, kContinue };
  absl::Status RenderBody(const Body& body, const ScopePtr& scope, std::string* out, Flow* flow);
  absl::StatusOr<Value> Eval(const Expr& e, const ScopePtr& scope);
  // Runs a `for` statement over `items` at recursion depth `depth` (1 for the outermost).
  absl::Status RunLoop(const Stmt& s, const ValueList& items, int depth, const ScopePtr& scope,
                       std::string* out);
  // Binds a for/set target (unpacking several names).
  absl::Status Assign(const Target& target, const Value& value, const ScopePtr& scope);

 private:
  absl::Status RenderStmtInner(const Stmt& s, const ScopePtr& scope, std::string* out, Flow* flow);
  absl::StatusOr<Value> EvalInner(const Expr& e, const ScopePtr& scope);
  // The cases of EvalInner, each in its own frame: one frame holding every case's locals
  // would make each level of expression nesting cost kilobytes of stack.
  absl::StatusOr<Value> EvalSequence(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalDict(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalGetAttr(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalGetItem(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalSlice(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalCall(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalTest(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalNot(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalSign(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalBinary(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalAnd(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalOr(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalCompare(const Expr& e, const ScopePtr& scope);
  absl::StatusOr<Value> EvalCondition(const Expr& e, const ScopePtr& scope);

  absl::Status RenderStmt(const Stmt& s, const ScopePtr& scope, std::string* out, Flow* flow);
  absl::Status Append(std::string* out, std::string_view text) const;
  absl::StatusOr<Value> EvalFilterChain(const Expr& e, const ScopePtr& scope, const Value* block_text);
  absl::Status EvalArgs(const CallArgExprs& exprs, const ScopePtr& scope, CallArgs* args);
  absl::StatusOr<Value> Lookup(const std::string& name, const ScopePtr& scope) const;

  RenderLimits limits_;
  absl::Time deadline_;
  uint64_t iterations_ = 0;
  uint64_t ticks_ = 0;
  int call_depth_ = 0;
  // Statements and expressions being evaluated, nested (macro calls multiply the template's
  // own nesting): bounded so that the C++ stack is too.
  int nesting_ = 0;
  int error_line_ = 0;
  int current_line_ = 0;
  std::vector<std::shared_ptr<Object>> tracked_;
};

// Iterates a value as Python's `for` does: list/tuple items, dict keys, string characters;
// Undefined iterates as empty. TypeError-like InvalidArgumentError for the rest.
absl::StatusOr<ValueList> IterateValue(const Value& v);

}  // namespace ember::chat

#endif  // EMBER_CHAT_INTERPRETER_H_
