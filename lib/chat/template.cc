#include "lib/chat/template.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/chat/builtins.h"
#include "lib/chat/interpreter.h"
#include "lib/chat/json_value.h"
#include "lib/chat/parser.h"
#include "lib/format/json_text.h"
#include "lib/tokenizer/utf8.h"
#include "nlohmann/json.hpp"

namespace ember::chat {

namespace {

absl::Status CheckNames(const Expr& e);

absl::Status CheckArgs(const CallArgExprs& args) {
  for (const ExprPtr& p : args.positional) EMBER_RETURN_IF_ERROR(CheckNames(*p));
  for (const auto& [k, p] : args.keyword) EMBER_RETURN_IF_ERROR(CheckNames(*p));
  if (args.star) EMBER_RETURN_IF_ERROR(CheckNames(*args.star));
  if (args.double_star) EMBER_RETURN_IF_ERROR(CheckNames(*args.double_star));
  return absl::OkStatus();
}

absl::Status CheckNames(const Expr& e) {
  if (e.kind == Expr::Kind::kFilter && FindFilter(e.name) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("template syntax error (line ", e.line, "): no filter named '", e.name, "'"));
  }
  if (e.kind == Expr::Kind::kTest && FindTest(e.name) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("template syntax error (line ", e.line, "): no test named '", e.name, "'"));
  }
  for (const Expr* child : {e.a.get(), e.b.get(), e.c.get(), e.d.get()}) {
    if (child) EMBER_RETURN_IF_ERROR(CheckNames(*child));
  }
  for (const ExprPtr& item : e.items) EMBER_RETURN_IF_ERROR(CheckNames(*item));
  return CheckArgs(e.args);
}

absl::Status CheckBody(const Body& body) {
  for (const StmtPtr& s : body) {
    for (const Expr* e : {s->expr.get(), s->cond.get()}) {
      if (e) EMBER_RETURN_IF_ERROR(CheckNames(*e));
    }
    for (const auto& [cond, branch] : s->branches) {
      EMBER_RETURN_IF_ERROR(CheckNames(*cond));
      EMBER_RETURN_IF_ERROR(CheckBody(branch));
    }
    for (const MacroParam& p : s->params) {
      if (p.default_value) EMBER_RETURN_IF_ERROR(CheckNames(*p.default_value));
    }
    for (const auto& [target, e] : s->assignments) EMBER_RETURN_IF_ERROR(CheckNames(*e));
    EMBER_RETURN_IF_ERROR(CheckBody(s->body));
    EMBER_RETURN_IF_ERROR(CheckBody(s->else_body));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChatTemplate>> ChatTemplate::Parse(std::string_view source) {
  EMBER_RETURN_IF_ERROR(CheckUtf8(source, "chat template"));
  std::unique_ptr<ChatTemplate> t(new ChatTemplate());
  EMBER_ASSIGN_OR_RETURN(t->body_, ParseTemplate(source));
  EMBER_RETURN_IF_ERROR(CheckBody(t->body_));
  return t;
}

absl::StatusOr<std::string> ChatTemplate::Render(const Value& context, const RenderLimits& limits) const {
  if (!context.is_dict()) return absl::InvalidArgumentError("template context must be a JSON object");
  Interpreter interp(limits);
  return interp.Render(body_, context);
}

absl::StatusOr<Value> ContextFromJson(std::string_view json) {
  if (json.find('\0') != std::string_view::npos) return absl::InvalidArgumentError("template context: NUL byte in JSON");
  if (JsonNestingDepth(json) > static_cast<int>(kMaxValueDepth)) {
    return absl::InvalidArgumentError(absl::StrCat("template context: JSON nests deeper than ", kMaxValueDepth));
  }
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(json.begin(), json.end(), nullptr, false);
  } catch (const nlohmann::ordered_json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("template context: not valid JSON: ", e.what()));
  }
  if (j.is_discarded()) return absl::InvalidArgumentError("template context: not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError("template context: must be a JSON object");
  return ValueFromJson(j);
}

}  // namespace ember::chat
