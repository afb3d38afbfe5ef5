// The parsed form of a template: expression and statement nodes. A node owns its children;
// the tree is immutable after parsing and shared by every render of the template.
#ifndef EMBER_CHAT_AST_H_
#define EMBER_CHAT_AST_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/chat/value.h"

namespace ember::chat {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct CallArgExprs {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star;         // *args
  ExprPtr double_star;  // **kwargs
};

struct Expr {
  enum class Kind {
    kConst,      // value
    kName,       // name
    kList,       // items
    kTuple,      // items
    kDict,       // items as key, value pairs
    kGetAttr,    // a . name
    kGetItem,    // a [ b ]
    kSlice,      // a [ b : c : d ] (b, c, d may be null)
    kCall,       // a ( args )
    kFilter,     // a | name ( args ); a is null inside filter/set blocks (the body text)
    kTest,       // a is [not] name ( args )
    kNot,        // not a
    kNeg,        // -a
    kPos,        // +a
    kBinary,     // a op b: + - * / // % ** ~
    kAnd,        // a and b
    kOr,         // a or b
    kCompare,    // a op1 b op2 c ... (ops: == != < <= > >= in notin)
    kCondition,  // b if a else c (c may be null)
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;  // kName, kGetAttr, kFilter, kTest; the operator of kBinary
  bool negated = false;  // kTest
  ExprPtr a, b, c, d;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;  // kCompare: one per operand after the first
  CallArgExprs args;             // kCall, kFilter, kTest
};

// A target of `for` / `set`: one name, several names (tuple unpacking), or ns.attr.
struct Target {
  std::vector<std::string> names;
  std::string attr;  // non-empty: names[0].attr
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Stmt {
  enum class Kind {
    kText,        // text
    kOutput,      // {{ expr }}
    kIf,          // branches (cond, body) ..., else_body
    kFor,         // target in expr [if cond] body else_body, recursive
    kSet,         // target = expr
    kSetBlock,    // target = rendered body, through filter (may be null)
    kMacro,       // name(params) body
    kCallBlock,   // call(params) expr: body becomes `caller`
    kFilterBlock, // filter applied to the rendered body
    kWith,        // assignments; body
    kBreak,
    kContinue,
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;    // kOutput, kFor iterable, kSet value, kCallBlock call, filters
  ExprPtr cond;    // kFor filter condition
  Target target;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  bool recursive = false;
  std::string name;
  std::vector<MacroParam> params;
  std::vector<std::pair<Target, ExprPtr>> assignments;  // kWith
};

}  // namespace ember::chat

#endif  // EMBER_CHAT_AST_H_
