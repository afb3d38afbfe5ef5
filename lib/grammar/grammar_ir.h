// The grammar intermediate representation that every front end (GBNF text, JSON Schema,
// regular expressions) builds and CompileGrammar lowers to bytes. Expressions live in one
// pool and refer to each other by index, so front ends build trees without ownership puzzles
// and the lowering can memoise per expression.
#ifndef EMBER_GRAMMAR_GRAMMAR_IR_H_
#define EMBER_GRAMMAR_GRAMMAR_IR_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ember::grammar {

inline constexpr uint32_t kUnbounded = std::numeric_limits<uint32_t>::max();
inline constexpr char32_t kMaxCodePoint = 0x10FFFF;

// An inclusive range of Unicode code points.
struct CodeRange {
  char32_t lo = 0;
  char32_t hi = 0;
  friend bool operator==(const CodeRange&, const CodeRange&) = default;
};

// Sorts and merges ranges and removes the surrogates (which UTF-8 cannot encode).
std::vector<CodeRange> NormalizeRanges(std::vector<CodeRange> ranges);
// The code points of [0, U+10FFFF] (surrogates excluded) that are not in `ranges`.
std::vector<CodeRange> ComplementRanges(const std::vector<CodeRange>& ranges);

enum class ExprKind : uint8_t {
  kEmpty,    // matches the empty string
  kNever,    // matches nothing (an alternative using it is dropped)
  kLiteral,  // the exact bytes `literal`
  kClass,    // one code point from `ranges` (normalized), UTF-8 encoded
  kSeq,      // items in order
  kAlt,      // any one of items
  kRef,      // the rule `rule`
  kRepeat,   // items[0] repeated min..max times (max may be kUnbounded)
};

struct Expr {
  ExprKind kind = ExprKind::kEmpty;
  std::string literal;
  std::vector<CodeRange> ranges;
  std::vector<int32_t> items;
  int32_t rule = -1;
  uint32_t min = 0;
  uint32_t max = 0;
};

struct Rule {
  std::string name;
  int32_t body = -1;  // -1: declared (referenced) but not defined yet
  std::string where;  // where it was defined or referenced first, for error messages
};

class GrammarIr {
 public:
  int32_t Empty();
  int32_t Never();
  int32_t Literal(std::string_view bytes);
  int32_t CodePoint(char32_t cp) { return Class({{cp, cp}}); }
  // One code point in `ranges` (normalized here); an empty set is Never().
  int32_t Class(std::vector<CodeRange> ranges);
  int32_t Seq(std::vector<int32_t> items);
  int32_t Alt(std::vector<int32_t> items);
  int32_t Ref(int32_t rule);
  int32_t Repeat(int32_t item, uint32_t min, uint32_t max);
  int32_t Optional(int32_t item) { return Repeat(item, 0, 1); }
  int32_t Star(int32_t item) { return Repeat(item, 0, kUnbounded); }

  // The rule named `name`, created (undefined) on first use.
  int32_t RuleId(std::string_view name, std::string_view where = {});
  // A fresh rule with a unique name derived from `hint`.
  int32_t NewRule(std::string_view hint);
  void Define(int32_t rule, int32_t body) { rules_[rule].body = body; }

  const Expr& expr(int32_t id) const { return exprs_[id]; }
  const Rule& rule(int32_t id) const { return rules_[id]; }
  int32_t n_rules() const { return static_cast<int32_t>(rules_.size()); }
  size_t n_exprs() const { return exprs_.size(); }
  int32_t root() const { return root_; }
  void set_root(int32_t rule) { root_ = rule; }

 private:
  int32_t Add(Expr e);
  std::vector<Expr> exprs_;
  std::vector<Rule> rules_;
  absl::flat_hash_map<std::string, int32_t> by_name_;
  int32_t root_ = -1;
};

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_GRAMMAR_IR_H_
