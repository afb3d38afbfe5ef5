#include "lib/chat/parser.h"

#include <initializer_list>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/chat/lexer.h"

namespace ember::chat {

namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  absl::StatusOr<Body> Run() {
    std::string end;
    EMBER_ASSIGN_OR_RETURN(Body body, Subparse({}, &end));
    return body;
  }

 private:
  // Counts nesting; Enter() fails beyond kMaxParseDepth.
  class DepthScope {
   public:
    explicit DepthScope(Parser* p) : p_(p) { ++p_->depth_; }
    ~DepthScope() { --p_->depth_; }
    DepthScope(const DepthScope&) = delete;
    DepthScope& operator=(const DepthScope&) = delete;

   private:
    Parser* p_;
  };
  absl::Status CheckDepth() const {
    return depth_ > kMaxParseDepth ? Error("template nests too deeply") : absl::OkStatus();
  }

  const Token& Cur() const { return toks_[pos_]; }
  const Token& Peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void Next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool IsOp(std::string_view op) const { return Cur().kind == TokenKind::kOp && Cur().text == op; }
  bool IsName(std::string_view name) const { return Cur().kind == TokenKind::kName && Cur().text == name; }
  bool SkipOp(std::string_view op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool SkipName(std::string_view name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kData: return "template data";
      case TokenKind::kVarBegin: return "'{{'";
      case TokenKind::kVarEnd: return "end of print statement";
      case TokenKind::kBlockBegin: return "'{%'";
      case TokenKind::kBlockEnd: return "end of statement block";
      case TokenKind::kName: return "'" + t.text + "'";
      case TokenKind::kString: return "string";
      case TokenKind::kInt: return "integer";
      case TokenKind::kFloat: return "float";
      case TokenKind::kOp: return "'" + t.text + "'";
      case TokenKind::kEof: return "end of template";
    }
    return "?";
  }

  absl::Status Error(std::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat("template syntax error (line ", Cur().line, "): ", AV(message)));
  }
  absl::Status Unexpected(std::string_view expected) const {
    return Error(absl::StrCat("expected ", AV(expected), ", got ", Describe(Cur())));
  }
  absl::Status ExpectOp(std::string_view op) {
    if (!SkipOp(op)) return Unexpected(absl::StrCat("'", AV(op), "'"));
    return absl::OkStatus();
  }
  absl::Status ExpectBlockEnd() {
    if (Cur().kind != TokenKind::kBlockEnd) return Unexpected("end of statement block");
    Next();
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ExpectName() {
    if (Cur().kind != TokenKind::kName) return Unexpected("a name");
    std::string n = Cur().text;
    Next();
    return n;
  }

  ExprPtr Make(Expr::Kind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = Cur().line;
    return e;
  }

  // ---- statements ----

  // Parses until `{% <one of end_tags>` (consuming the tag name, not the rest) or the end.
  absl::StatusOr<Body> Subparse(std::initializer_list<std::string_view> end_tags, std::string* found) {
    DepthScope depth(this);
    EMBER_RETURN_IF_ERROR(CheckDepth());
    Body body;
    while (true) {
      const Token& t = Cur();
      switch (t.kind) {
        case TokenKind::kData: {
          auto s = std::make_unique<Stmt>();
          s->kind = Stmt::Kind::kText;
          s->line = t.line;
          s->text = t.text;
          body.push_back(std::move(s));
          Next();
          break;
        }
        case TokenKind::kVarBegin: {
          auto s = std::make_unique<Stmt>();
          s->kind = Stmt::Kind::kOutput;
          s->line = t.line;
          Next();
          EMBER_ASSIGN_OR_RETURN(s->expr, ParseTuple(true, {}, false));
          if (Cur().kind != TokenKind::kVarEnd) return Unexpected("end of print statement");
          Next();
          body.push_back(std::move(s));
          break;
        }
        case TokenKind::kBlockBegin: {
          Next();
          if (Cur().kind != TokenKind::kName) return Unexpected("a statement name");
          for (std::string_view end : end_tags) {
            if (Cur().text == end) {
              *found = Cur().text;
              Next();
              return body;
            }
          }
          EMBER_ASSIGN_OR_RETURN(StmtPtr s, ParseStatement());
          if (s) body.push_back(std::move(s));
          break;
        }
        case TokenKind::kEof:
          if (end_tags.size() != 0) {
            std::string names;
            for (std::string_view e : end_tags) absl::StrAppend(&names, names.empty() ? "" : " or ", "'", AV(e), "'");
            return Error(absl::StrCat("unexpected end of template, expected ", names));
          }
          return body;
        default:
          return Unexpected("template data or a tag");
      }
    }
  }

  absl::StatusOr<StmtPtr> ParseStatement() {
    const std::string tag = Cur().text;
    const int line = Cur().line;
    auto s = std::make_unique<Stmt>();
    s->line = line;
    Next();
    std::string end;
    if (tag == "if") {
      s->kind = Stmt::Kind::kIf;
      while (true) {
        EMBER_ASSIGN_OR_RETURN(ExprPtr cond, ParseTuple(false, {}, false));
        EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
        EMBER_ASSIGN_OR_RETURN(Body body, Subparse({"elif", "else", "endif"}, &end));
        s->branches.emplace_back(std::move(cond), std::move(body));
        if (end == "elif") continue;
        if (end == "else") {
          EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
          EMBER_ASSIGN_OR_RETURN(s->else_body, Subparse({"endif"}, &end));
        }
        break;
      }
    } else if (tag == "for") {
      s->kind = Stmt::Kind::kFor;
      EMBER_ASSIGN_OR_RETURN(s->target, ParseAssignTarget(false, {"in"}));
      if (!SkipName("in")) return Unexpected("'in'");
      EMBER_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, {"recursive"}, false));
      if (SkipName("if")) {
        EMBER_ASSIGN_OR_RETURN(s->cond, ParseExpression(true));
      }
      s->recursive = SkipName("recursive");
      EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
      ++loop_depth_;
      auto body = Subparse({"endfor", "else"}, &end);
      --loop_depth_;
      if (!body.ok()) return body.status();
      s->body = std::move(*body);
      if (end == "else") {
        EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
        EMBER_ASSIGN_OR_RETURN(s->else_body, Subparse({"endfor"}, &end));
      }
    } else if (tag == "set") {
      EMBER_ASSIGN_OR_RETURN(s->target, ParseAssignTarget(true, {}));
      if (SkipOp("=")) {
        s->kind = Stmt::Kind::kSet;
        EMBER_ASSIGN_OR_RETURN(s->expr, ParseTuple(true, {}, false));
      } else {
        s->kind = Stmt::Kind::kSetBlock;
        if (IsOp("|")) {
          EMBER_ASSIGN_OR_RETURN(s->expr, ParseFilter(nullptr, false));
        }
        EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
        EMBER_ASSIGN_OR_RETURN(s->body, SubparseNoLoop({"endset"}, &end));
      }
    } else if (tag == "macro") {
      s->kind = Stmt::Kind::kMacro;
      EMBER_ASSIGN_OR_RETURN(s->name, ExpectName());
      EMBER_RETURN_IF_ERROR(ParseSignature(&s->params));
      EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
      EMBER_ASSIGN_OR_RETURN(s->body, SubparseNoLoop({"endmacro"}, &end));
      if (Cur().kind == TokenKind::kName && Cur().text == s->name) Next();
    } else if (tag == "call") {
      s->kind = Stmt::Kind::kCallBlock;
      if (IsOp("(")) EMBER_RETURN_IF_ERROR(ParseSignature(&s->params));
      EMBER_ASSIGN_OR_RETURN(s->expr, ParseExpression(true));
      if (s->expr->kind != Expr::Kind::kCall) return Error("expected call");
      EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
      EMBER_ASSIGN_OR_RETURN(s->body, SubparseNoLoop({"endcall"}, &end));
    } else if (tag == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      EMBER_ASSIGN_OR_RETURN(s->expr, ParseFilter(nullptr, true));
      EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
      EMBER_ASSIGN_OR_RETURN(s->body, Subparse({"endfilter"}, &end));
    } else if (tag == "with") {
      s->kind = Stmt::Kind::kWith;
      while (Cur().kind != TokenKind::kBlockEnd) {
        if (!s->assignments.empty()) EMBER_RETURN_IF_ERROR(ExpectOp(","));
        EMBER_ASSIGN_OR_RETURN(Target t, ParseAssignTarget(false, {}));
        EMBER_RETURN_IF_ERROR(ExpectOp("="));
        EMBER_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
        s->assignments.emplace_back(std::move(t), std::move(value));
      }
      EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
      EMBER_ASSIGN_OR_RETURN(s->body, Subparse({"endwith"}, &end));
    } else if (tag == "generation") {
      // transformers' AssistantTracker block: renders its body in place.
      s->kind = Stmt::Kind::kWith;
      EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
      EMBER_ASSIGN_OR_RETURN(s->body, Subparse({"endgeneration"}, &end));
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) return Error(absl::StrCat("'", tag, "' outside of a loop"));
      s->kind = tag == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
    } else {
      pos_ = pos_ > 0 ? pos_ - 1 : 0;
      return Error(absl::StrCat("encountered unknown tag '", tag, "'"));
    }
    EMBER_RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }

  // Macro and call-block bodies are functions: a loop outside them is not theirs to break.
  absl::StatusOr<Body> SubparseNoLoop(std::initializer_list<std::string_view> end_tags, std::string* found) {
    const int saved = loop_depth_;
    loop_depth_ = 0;
    auto body = Subparse(end_tags, found);
    loop_depth_ = saved;
    return body;
  }

  absl::Status ParseSignature(std::vector<MacroParam>* params) {
    EMBER_RETURN_IF_ERROR(ExpectOp("("));
    while (!IsOp(")")) {
      if (!params->empty()) EMBER_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp(")")) break;
      MacroParam p;
      EMBER_ASSIGN_OR_RETURN(p.name, ExpectName());
      if (SkipOp("=")) {
        EMBER_ASSIGN_OR_RETURN(p.default_value, ParseExpression(true));
      } else {
        for (const MacroParam& q : *params) {
          if (q.default_value) return Error("non-default argument follows default argument");
        }
      }
      params->push_back(std::move(p));
    }
    Next();
    return absl::OkStatus();
  }

  // name, name.attr (set only), or names separated by commas (optionally parenthesized).
  absl::StatusOr<Target> ParseAssignTarget(bool allow_attr, std::initializer_list<std::string_view> end_names) {
    Target t;
    if (allow_attr && Cur().kind == TokenKind::kName && Peek().kind == TokenKind::kOp && Peek().text == ".") {
      t.names.push_back(Cur().text);
      Next();
      Next();
      EMBER_ASSIGN_OR_RETURN(t.attr, ExpectName());
      return t;
    }
    const bool paren = SkipOp("(");
    while (true) {
      if (Cur().kind != TokenKind::kName) return Unexpected("a name to assign to");
      if (Cur().text == "true" || Cur().text == "false" || Cur().text == "none" || Cur().text == "True" ||
          Cur().text == "False" || Cur().text == "None") {
        return Error(absl::StrCat("cannot assign to '", Cur().text, "'"));
      }
      t.names.push_back(Cur().text);
      Next();
      if (!SkipOp(",")) break;
      bool at_end = Cur().kind != TokenKind::kName || IsOp(")");
      for (std::string_view e : end_names) at_end = at_end || IsName(e);
      if (at_end) break;
    }
    if (paren) EMBER_RETURN_IF_ERROR(ExpectOp(")"));
    return t;
  }

  // ---- expressions ----

  bool IsTupleEnd(std::initializer_list<std::string_view> extra_end) const {
    const Token& t = Cur();
    if (t.kind == TokenKind::kVarEnd || t.kind == TokenKind::kBlockEnd || t.kind == TokenKind::kEof) return true;
    if (t.kind == TokenKind::kOp && t.text == ")") return true;
    for (std::string_view e : extra_end) {
      if (t.kind == TokenKind::kName && t.text == e) return true;
    }
    return false;
  }

  absl::StatusOr<ExprPtr> ParseTuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end,
                                     bool explicit_parentheses) {
    const int line = Cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) EMBER_RETURN_IF_ERROR(ExpectOp(","));
      if (IsTupleEnd(extra_end)) break;
      EMBER_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(with_condexpr));
      items.push_back(std::move(e));
      if (IsOp(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parentheses) return Unexpected("an expression");
    }
    auto t = Make(Expr::Kind::kTuple);
    t->line = line;
    t->items = std::move(items);
    return t;
  }

  absl::StatusOr<ExprPtr> ParseExpression(bool with_condexpr) {
    DepthScope depth(this);
    EMBER_RETURN_IF_ERROR(CheckDepth());
    if (!with_condexpr) return ParseOr();
    EMBER_ASSIGN_OR_RETURN(ExprPtr e, ParseOr());
    while (SkipName("if")) {
      auto c = Make(Expr::Kind::kCondition);
      EMBER_ASSIGN_OR_RETURN(c->a, ParseOr());
      c->b = std::move(e);
      if (SkipName("else")) {
        EMBER_ASSIGN_OR_RETURN(c->c, ParseExpression(true));
      }
      e = std::move(c);
    }
    return e;
  }

  absl::StatusOr<ExprPtr> ParseOr() {
    EMBER_ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
    while (SkipName("or")) {
      auto n = Make(Expr::Kind::kOr);
      n->a = std::move(left);
      EMBER_ASSIGN_OR_RETURN(n->b, ParseAnd());
      left = std::move(n);
    }
    return left;
  }

  absl::StatusOr<ExprPtr> ParseAnd() {
    EMBER_ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
    while (SkipName("and")) {
      auto n = Make(Expr::Kind::kAnd);
      n->a = std::move(left);
      EMBER_ASSIGN_OR_RETURN(n->b, ParseNot());
      left = std::move(n);
    }
    return left;
  }

  absl::StatusOr<ExprPtr> ParseNot() {
    if (IsName("not")) {
      DepthScope depth(this);
      EMBER_RETURN_IF_ERROR(CheckDepth());
      auto n = Make(Expr::Kind::kNot);
      Next();
      EMBER_ASSIGN_OR_RETURN(n->a, ParseNot());
      return n;
    }
    return ParseCompare();
  }

  absl::StatusOr<ExprPtr> ParseCompare() {
    EMBER_ASSIGN_OR_RETURN(ExprPtr first, ParseMath1());
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (Cur().kind == TokenKind::kOp &&
          (Cur().text == "==" || Cur().text == "!=" || Cur().text == "<" || Cur().text == "<=" ||
           Cur().text == ">" || Cur().text == ">=")) {
        op = Cur().text;
        Next();
      } else if (IsName("in")) {
        op = "in";
        Next();
      } else if (IsName("not") && Peek().kind == TokenKind::kName && Peek().text == "in") {
        op = "notin";
        Next();
        Next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = Make(Expr::Kind::kCompare);
        cmp->a = std::move(first);
      }
      EMBER_ASSIGN_OR_RETURN(ExprPtr operand, ParseMath1());
      cmp->ops.push_back(op);
      cmp->items.push_back(std::move(operand));
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  absl::StatusOr<ExprPtr> Binary(std::string op, ExprPtr left, ExprPtr right) {
    auto n = Make(Expr::Kind::kBinary);
    n->name = std::move(op);
    n->a = std::move(left);
    n->b = std::move(right);
    return n;
  }

  absl::StatusOr<ExprPtr> ParseMath1() {
    EMBER_ASSIGN_OR_RETURN(ExprPtr left, ParseConcat());
    while (IsOp("+") || IsOp("-")) {
      std::string op = Cur().text;
      Next();
      EMBER_ASSIGN_OR_RETURN(ExprPtr right, ParseConcat());
      EMBER_ASSIGN_OR_RETURN(left, Binary(op, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ExprPtr> ParseConcat() {
    EMBER_ASSIGN_OR_RETURN(ExprPtr left, ParseMath2());
    while (SkipOp("~")) {
      EMBER_ASSIGN_OR_RETURN(ExprPtr right, ParseMath2());
      EMBER_ASSIGN_OR_RETURN(left, Binary("~", std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ExprPtr> ParseMath2() {
    EMBER_ASSIGN_OR_RETURN(ExprPtr left, ParsePow());
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      std::string op = Cur().text;
      Next();
      EMBER_ASSIGN_OR_RETURN(ExprPtr right, ParsePow());
      EMBER_ASSIGN_OR_RETURN(left, Binary(op, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ExprPtr> ParsePow() {
    EMBER_ASSIGN_OR_RETURN(ExprPtr left, ParseUnary(true));
    while (SkipOp("**")) {
      EMBER_ASSIGN_OR_RETURN(ExprPtr right, ParseUnary(true));
      EMBER_ASSIGN_OR_RETURN(left, Binary("**", std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ExprPtr> ParseUnary(bool with_filter) {
    DepthScope depth(this);
    EMBER_RETURN_IF_ERROR(CheckDepth());
    ExprPtr node;
    if (IsOp("-") || IsOp("+")) {
      node = Make(IsOp("-") ? Expr::Kind::kNeg : Expr::Kind::kPos);
      Next();
      EMBER_ASSIGN_OR_RETURN(node->a, ParseUnary(false));
    } else {
      EMBER_ASSIGN_OR_RETURN(node, ParsePrimary());
    }
    EMBER_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
    if (with_filter) {
      EMBER_ASSIGN_OR_RETURN(node, ParseFilterExpr(std::move(node)));
    }
    return node;
  }

  absl::StatusOr<ExprPtr> ParsePrimary() {
    const Token& t = Cur();
    switch (t.kind) {
      case TokenKind::kName: {
        auto n = Make(Expr::Kind::kConst);
        if (t.text == "true" || t.text == "True") n->value = Value::Bool(true);
        else if (t.text == "false" || t.text == "False") n->value = Value::Bool(false);
        else if (t.text == "none" || t.text == "None") n->value = Value::None();
        else {
          n->kind = Expr::Kind::kName;
          n->name = t.text;
        }
        Next();
        return n;
      }
      case TokenKind::kString: {
        auto n = Make(Expr::Kind::kConst);
        std::string s;
        while (Cur().kind == TokenKind::kString) {
          s += Cur().text;
          Next();
        }
        n->value = Value::String(std::move(s));
        return n;
      }
      case TokenKind::kInt: {
        auto n = Make(Expr::Kind::kConst);
        n->value = Value::Int(t.int_value);
        Next();
        return n;
      }
      case TokenKind::kFloat: {
        auto n = Make(Expr::Kind::kConst);
        n->value = Value::Float(t.float_value);
        Next();
        return n;
      }
      case TokenKind::kOp:
        if (t.text == "(") {
          Next();
          EMBER_ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(true, {}, true));
          EMBER_RETURN_IF_ERROR(ExpectOp(")"));
          return e;
        }
        if (t.text == "[") {
          auto n = Make(Expr::Kind::kList);
          Next();
          while (!IsOp("]")) {
            if (!n->items.empty()) EMBER_RETURN_IF_ERROR(ExpectOp(","));
            if (IsOp("]")) break;
            EMBER_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
            n->items.push_back(std::move(e));
          }
          Next();
          return n;
        }
        if (t.text == "{") {
          auto n = Make(Expr::Kind::kDict);
          Next();
          while (!IsOp("}")) {
            if (!n->items.empty()) EMBER_RETURN_IF_ERROR(ExpectOp(","));
            if (IsOp("}")) break;
            EMBER_ASSIGN_OR_RETURN(ExprPtr k, ParseExpression(true));
            EMBER_RETURN_IF_ERROR(ExpectOp(":"));
            EMBER_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
            n->items.push_back(std::move(k));
            n->items.push_back(std::move(v));
          }
          Next();
          return n;
        }
        break;
      default:
        break;
    }
    return Error(absl::StrCat("unexpected ", Describe(t)));
  }

  absl::StatusOr<ExprPtr> ParsePostfix(ExprPtr node) {
    while (true) {
      if (IsOp(".") || IsOp("[")) {
        EMBER_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
      } else if (IsOp("(")) {
        EMBER_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  absl::StatusOr<ExprPtr> ParseFilterExpr(ExprPtr node) {
    while (true) {
      if (IsOp("|")) {
        EMBER_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node), false));
      } else if (IsName("is")) {
        EMBER_ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
      } else if (IsOp("(")) {
        EMBER_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  absl::StatusOr<ExprPtr> ParseSubscript(ExprPtr node) {
    if (SkipOp(".")) {
      if (Cur().kind == TokenKind::kName) {
        auto n = Make(Expr::Kind::kGetAttr);
        n->a = std::move(node);
        n->name = Cur().text;
        Next();
        return n;
      }
      if (Cur().kind == TokenKind::kInt) {
        auto n = Make(Expr::Kind::kGetItem);
        n->a = std::move(node);
        n->b = Make(Expr::Kind::kConst);
        n->b->value = Value::Int(Cur().int_value);
        Next();
        return n;
      }
      return Unexpected("an attribute name");
    }
    Next();  // [
    std::vector<ExprPtr> args;
    while (!IsOp("]")) {
      if (!args.empty()) EMBER_RETURN_IF_ERROR(ExpectOp(","));
      EMBER_ASSIGN_OR_RETURN(ExprPtr a, ParseSubscribed());
      args.push_back(std::move(a));
    }
    Next();
    if (args.empty()) return Error("expected a subscript");
    ExprPtr index;
    if (args.size() == 1) {
      index = std::move(args[0]);
    } else {
      index = Make(Expr::Kind::kTuple);
      index->items = std::move(args);
    }
    if (index->kind == Expr::Kind::kSlice) {
      index->a = std::move(node);
      return index;
    }
    auto n = Make(Expr::Kind::kGetItem);
    n->a = std::move(node);
    n->b = std::move(index);
    return n;
  }

  // An index or a slice (kSlice with b/c/d = start/stop/step, `a` filled in by the caller).
  absl::StatusOr<ExprPtr> ParseSubscribed() {
    ExprPtr start;
    if (!IsOp(":")) {
      EMBER_ASSIGN_OR_RETURN(start, ParseExpression(true));
      if (!IsOp(":")) return start;
    }
    Next();  // :
    auto s = Make(Expr::Kind::kSlice);
    s->b = std::move(start);
    if (!IsOp(":") && !IsOp("]") && !IsOp(",")) {
      EMBER_ASSIGN_OR_RETURN(s->c, ParseExpression(true));
    }
    if (SkipOp(":")) {
      if (!IsOp("]") && !IsOp(",")) {
        EMBER_ASSIGN_OR_RETURN(s->d, ParseExpression(true));
      }
    }
    return s;
  }

  absl::Status ParseCallArgs(CallArgExprs* args) {
    EMBER_RETURN_IF_ERROR(ExpectOp("("));
    bool first = true;
    while (!IsOp(")")) {
      if (!first) {
        EMBER_RETURN_IF_ERROR(ExpectOp(","));
        if (IsOp(")")) break;
      }
      first = false;
      if (SkipOp("*")) {
        EMBER_ASSIGN_OR_RETURN(args->star, ParseExpression(true));
      } else if (SkipOp("**")) {
        EMBER_ASSIGN_OR_RETURN(args->double_star, ParseExpression(true));
      } else if (Cur().kind == TokenKind::kName && Peek().kind == TokenKind::kOp && Peek().text == "=") {
        std::string key = Cur().text;
        Next();
        Next();
        EMBER_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
        args->keyword.emplace_back(std::move(key), std::move(v));
      } else {
        if (!args->keyword.empty() || args->star || args->double_star) {
          return Error("invalid syntax for function call expression");
        }
        EMBER_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
        args->positional.push_back(std::move(v));
      }
    }
    Next();
    return absl::OkStatus();
  }

  absl::StatusOr<ExprPtr> ParseCall(ExprPtr node) {
    auto n = Make(Expr::Kind::kCall);
    n->a = std::move(node);
    EMBER_RETURN_IF_ERROR(ParseCallArgs(&n->args));
    return n;
  }

  absl::StatusOr<std::string> ParseDottedName() {
    EMBER_ASSIGN_OR_RETURN(std::string name, ExpectName());
    while (SkipOp(".")) {
      EMBER_ASSIGN_OR_RETURN(std::string part, ExpectName());
      name += "." + part;
    }
    return name;
  }

  // `| name(args) | name ...`; start_inline: the first `|` is implicit (filter blocks).
  absl::StatusOr<ExprPtr> ParseFilter(ExprPtr node, bool start_inline) {
    while (IsOp("|") || start_inline) {
      if (!start_inline) Next();
      start_inline = false;
      auto f = Make(Expr::Kind::kFilter);
      EMBER_ASSIGN_OR_RETURN(f->name, ParseDottedName());
      if (IsOp("(")) EMBER_RETURN_IF_ERROR(ParseCallArgs(&f->args));
      f->a = std::move(node);
      node = std::move(f);
    }
    return node;
  }

  absl::StatusOr<ExprPtr> ParseTest(ExprPtr node) {
    Next();  // is
    auto t = Make(Expr::Kind::kTest);
    t->negated = SkipName("not");
    EMBER_ASSIGN_OR_RETURN(t->name, ParseDottedName());
    if (IsOp("(")) {
      EMBER_RETURN_IF_ERROR(ParseCallArgs(&t->args));
    } else {
      const Token& c = Cur();
      const bool starts_arg =
          c.kind == TokenKind::kName || c.kind == TokenKind::kString || c.kind == TokenKind::kInt ||
          c.kind == TokenKind::kFloat || (c.kind == TokenKind::kOp && (c.text == "(" || c.text == "[" || c.text == "{"));
      if (starts_arg && !IsName("else") && !IsName("or") && !IsName("and")) {
        if (IsName("is")) return Error("you cannot chain multiple tests with is");
        EMBER_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
        EMBER_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
        t->args.positional.push_back(std::move(arg));
      }
    }
    t->a = std::move(node);
    return t;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

absl::StatusOr<Body> ParseTemplate(std::string_view source) {
  EMBER_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source));
  Parser parser(std::move(tokens));
  return parser.Run();
}

}  // namespace ember::chat
