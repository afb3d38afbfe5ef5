#include "lib/grammar/grammar_ir.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ember::grammar {

namespace {
constexpr char32_t kSurrogateLo = 0xD800;
constexpr char32_t kSurrogateHi = 0xDFFF;
}  // namespace

std::vector<CodeRange> NormalizeRanges(std::vector<CodeRange> ranges) {
  std::vector<CodeRange> split;
  for (CodeRange r : ranges) {
    if (r.lo > r.hi) std::swap(r.lo, r.hi);
    if (r.lo > kMaxCodePoint) continue;
    r.hi = std::min(r.hi, kMaxCodePoint);
    // Cut the surrogate block out.
    if (r.hi < kSurrogateLo || r.lo > kSurrogateHi) {
      split.push_back(r);
      continue;
    }
    if (r.lo < kSurrogateLo) split.push_back({r.lo, kSurrogateLo - 1});
    if (r.hi > kSurrogateHi) split.push_back({kSurrogateHi + 1, r.hi});
  }
  std::sort(split.begin(), split.end(), [](const CodeRange& a, const CodeRange& b) { return a.lo < b.lo; });
  std::vector<CodeRange> out;
  for (const CodeRange& r : split) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<CodeRange> ComplementRanges(const std::vector<CodeRange>& ranges) {
  std::vector<CodeRange> norm = NormalizeRanges(ranges);
  std::vector<CodeRange> out;
  char32_t next = 0;
  for (const CodeRange& r : norm) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return NormalizeRanges(std::move(out));
}

int32_t GrammarIr::Add(Expr e) {
  exprs_.push_back(std::move(e));
  return static_cast<int32_t>(exprs_.size() - 1);
}

int32_t GrammarIr::Empty() { return Add(Expr{.kind = ExprKind::kEmpty}); }
int32_t GrammarIr::Never() { return Add(Expr{.kind = ExprKind::kNever}); }

int32_t GrammarIr::Literal(std::string_view bytes) {
  if (bytes.empty()) return Empty();
  return Add(Expr{.kind = ExprKind::kLiteral, .literal = std::string(bytes)});
}

int32_t GrammarIr::Class(std::vector<CodeRange> ranges) {
  std::vector<CodeRange> norm = NormalizeRanges(std::move(ranges));
  if (norm.empty()) return Never();
  return Add(Expr{.kind = ExprKind::kClass, .ranges = std::move(norm)});
}

int32_t GrammarIr::Seq(std::vector<int32_t> items) {
  if (items.empty()) return Empty();
  if (items.size() == 1) return items[0];
  return Add(Expr{.kind = ExprKind::kSeq, .items = std::move(items)});
}

int32_t GrammarIr::Alt(std::vector<int32_t> items) {
  if (items.empty()) return Never();
  if (items.size() == 1) return items[0];
  return Add(Expr{.kind = ExprKind::kAlt, .items = std::move(items)});
}

int32_t GrammarIr::Ref(int32_t rule) { return Add(Expr{.kind = ExprKind::kRef, .rule = rule}); }

int32_t GrammarIr::Repeat(int32_t item, uint32_t min, uint32_t max) {
  if (max == 0) return Empty();
  if (min == 1 && max == 1) return item;
  return Add(Expr{.kind = ExprKind::kRepeat, .items = {item}, .min = min, .max = max});
}

int32_t GrammarIr::RuleId(std::string_view name, std::string_view where) {
  auto [it, inserted] = by_name_.try_emplace(std::string(name), n_rules());
  if (inserted) rules_.push_back(Rule{.name = std::string(name), .where = std::string(where)});
  return it->second;
}

int32_t GrammarIr::NewRule(std::string_view hint) {
  rules_.push_back(Rule{.name = absl::StrCat(std::string(hint), "#", rules_.size())});
  return n_rules() - 1;
}

}  // namespace ember::grammar
