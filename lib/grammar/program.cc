#include "lib/grammar/program.h"

#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/grammar/limits.h"
#include "lib/grammar/utf8_ranges.h"

namespace ember::grammar {

size_t Program::MemoryBytes() const {
  size_t n = elements.size() * sizeof(Element) + byte_sets.size() * sizeof(ByteSet);
  for (const auto& alts : rule_alts) n += alts.size() * sizeof(int32_t) + sizeof(alts);
  for (const auto& name : rule_names) n += name.size() + sizeof(name);
  return n;
}

std::vector<int32_t> Program::ClampedPositions(size_t keep) const {
  std::vector<int32_t> map(elements.size());
  for (size_t i = 0; i < map.size(); ++i) map[i] = static_cast<int32_t>(i);
  for (const std::vector<int32_t>& chain : chains) {
    if (chain.size() <= keep || keep == 0) continue;
    const int32_t target = chain[keep - 1];
    const std::vector<int32_t>& target_alts = rule_alts[target];
    for (size_t j = keep; j < chain.size(); ++j) {
      const std::vector<int32_t>& alts = rule_alts[chain[j]];
      if (alts.size() != target_alts.size()) continue;
      for (size_t a = 0; a < alts.size(); ++a) {
        for (int32_t off = 0;; ++off) {
          const Element& e = elements[alts[a] + off];
          const Element& t = elements[target_alts[a] + off];
          if (e.kind != t.kind) break;
          map[alts[a] + off] = target_alts[a] + off;
          if (e.kind == Element::kEnd) break;
        }
      }
    }
  }
  return map;
}

namespace {

using Alternative = std::vector<Element>;

// The user-facing rule a generated rule ("value#12") came from.
std::string OwnerName(std::string_view name) {
  const size_t hash = name.find('#');
  return std::string(hash == std::string_view::npos ? name : name.substr(0, hash));
}

class Lowerer {
 public:
  explicit Lowerer(const GrammarIr& ir) : ir_(ir) {}

  absl::StatusOr<std::shared_ptr<const Program>> Run() {
    if (ir_.root() < 0) return absl::InvalidArgumentError("grammar has no root rule");
    const int32_t root = ProgramRuleFor(ir_.root());
    while (!pending_.empty() && status_.ok()) {
      auto [ir_rule, prog_rule] = pending_.back();
      pending_.pop_back();
      const Rule& rule = ir_.rule(ir_rule);
      if (rule.body < 0) {
        status_ = absl::InvalidArgumentError(absl::StrCat(
            "undefined rule '", rule.name, "'", rule.where.empty() ? "" : " (used at ", rule.where,
            rule.where.empty() ? "" : ")"));
        break;
      }
      owner_ = rule.name;
      LowerRuleBody(rule.body, prog_rule);
    }
    if (!status_.ok()) return status_;
    RemoveUnproductive();
    if (alts_[root].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the grammar matches nothing (rule '", names_[root], "' has no finite derivation)"));
    }
    absl::Status left = CheckLeftRecursion();
    if (!left.ok()) return left;
    return Flatten(root);
  }

 private:
  int32_t NewProgramRule(std::string name) {
    if (alts_.size() >= static_cast<size_t>(kMaxRules)) {
      if (status_.ok()) status_ = absl::InvalidArgumentError(absl::StrCat("grammar exceeds ", kMaxRules, " rules"));
    }
    alts_.emplace_back();
    names_.push_back(std::move(name));
    return static_cast<int32_t>(alts_.size() - 1);
  }

  int32_t ProgramRuleFor(int32_t ir_rule) {
    auto it = ir_rules_.find(ir_rule);
    if (it != ir_rules_.end()) return it->second;
    const int32_t id = NewProgramRule(ir_.rule(ir_rule).name);
    ir_rules_[ir_rule] = id;
    pending_.push_back({ir_rule, id});
    return id;
  }

  int32_t Synthetic() { return NewProgramRule(absl::StrCat(owner_, "#", alts_.size())); }

  void LowerRuleBody(int32_t body, int32_t prog_rule) {
    const Expr& e = ir_.expr(body);
    if (e.kind == ExprKind::kAlt) {
      for (int32_t item : e.items) AddAlternative(prog_rule, item);
    } else {
      AddAlternative(prog_rule, body);
    }
  }

  void AddAlternative(int32_t prog_rule, int32_t expr) {
    Alternative alt;
    bool never = false;
    LowerInto(expr, &alt, &never);
    if (!never) Push(prog_rule, std::move(alt));
  }

  void Push(int32_t prog_rule, Alternative alt) {
    n_elements_ += alt.size() + 1;
    if (n_elements_ > kMaxElements && status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat("grammar exceeds ", kMaxElements,
                                                        " elements once repetitions are expanded"));
    }
    if (status_.ok()) alts_[prog_rule].push_back(std::move(alt));
  }

  int32_t ByteSetId(const ByteSet& set) {
    std::array<uint64_t, 4> key = {set.w[0], set.w[1], set.w[2], set.w[3]};
    auto [it, inserted] = byte_set_ids_.try_emplace(key, static_cast<int32_t>(byte_sets_.size()));
    if (inserted) byte_sets_.push_back(set);
    return it->second;
  }

  void EmitByte(uint8_t b, Alternative* out) {
    ByteSet s;
    s.Set(b);
    out->push_back({Element::kBytes, ByteSetId(s)});
  }

  void LowerInto(int32_t expr, Alternative* out, bool* never) {
    if (!status_.ok() || *never) return;
    if (out->size() > kMaxElements) {
      status_ = absl::InvalidArgumentError(absl::StrCat("grammar exceeds ", kMaxElements, " elements"));
      return;
    }
    const Expr& e = ir_.expr(expr);
    switch (e.kind) {
      case ExprKind::kEmpty:
        return;
      case ExprKind::kNever:
        *never = true;
        return;
      case ExprKind::kLiteral:
        for (char c : e.literal) EmitByte(static_cast<uint8_t>(c), out);
        return;
      case ExprKind::kClass:
        LowerClass(expr, out);
        return;
      case ExprKind::kSeq:
        for (int32_t item : e.items) LowerInto(item, out, never);
        return;
      case ExprKind::kAlt:
        out->push_back({Element::kRule, RuleFor(expr)});
        return;
      case ExprKind::kRef:
        out->push_back({Element::kRule, ProgramRuleFor(e.rule)});
        return;
      case ExprKind::kRepeat:
        LowerRepeat(e, out, never);
        return;
    }
  }

  // A rule matching exactly `expr` (memoised, so repeated uses share it).
  int32_t RuleFor(int32_t expr) {
    auto it = expr_rules_.find(expr);
    if (it != expr_rules_.end()) return it->second;
    const int32_t id = Synthetic();
    expr_rules_[expr] = id;
    const Expr& e = ir_.expr(expr);
    if (e.kind == ExprKind::kAlt) {
      for (int32_t item : e.items) AddAlternative(id, item);
    } else {
      AddAlternative(id, expr);
    }
    return id;
  }

  void LowerClass(int32_t expr, Alternative* out) {
    const Expr& e = ir_.expr(expr);
    auto it = expr_rules_.find(expr);
    if (it != expr_rules_.end()) {
      out->push_back({it->second >= 0 ? Element::kRule : Element::kBytes,
                      it->second >= 0 ? it->second : -it->second - 1});
      return;
    }
    std::vector<std::vector<ByteRange>> seqs = Utf8Sequences(e.ranges);
    ByteSet single;
    bool has_single = false, has_multi = false;
    for (const auto& seq : seqs) {
      if (seq.size() == 1) {
        single.SetRange(seq[0].lo, seq[0].hi);
        has_single = true;
      } else {
        has_multi = true;
      }
    }
    if (!has_multi) {
      const int32_t set = ByteSetId(single);
      expr_rules_[expr] = -set - 1;
      out->push_back({Element::kBytes, set});
      return;
    }
    const int32_t id = Synthetic();
    expr_rules_[expr] = id;
    if (has_single) Push(id, {{Element::kBytes, ByteSetId(single)}});
    // Multi-byte sequences sharing a lead-byte range are grouped under one alternative so
    // that a state inside a character holds one stack per group, not one per sequence.
    for (const auto& seq : seqs) {
      if (seq.size() == 1) continue;
      Alternative alt;
      for (const ByteRange& br : seq) {
        ByteSet s;
        s.SetRange(br.lo, br.hi);
        alt.push_back({Element::kBytes, ByteSetId(s)});
      }
      Push(id, std::move(alt));
    }
    out->push_back({Element::kRule, id});
  }

  void LowerRepeat(const Expr& e, Alternative* out, bool* never) {
    if ((e.min != kUnbounded && e.min > kMaxRepeatBound) ||
        (e.max != kUnbounded && e.max > kMaxRepeatBound)) {
      status_ = absl::InvalidArgumentError(absl::StrCat("repetition count ", e.max == kUnbounded ? e.min : e.max,
                                                        " exceeds the limit of ", kMaxRepeatBound,
                                                        " (in rule '", OwnerName(owner_), "')"));
      return;
    }
    if (e.min > e.max) {
      *never = true;
      return;
    }
    const int32_t item = e.items[0];
    const Expr& ie = ir_.expr(item);
    if (ie.kind == ExprKind::kNever) {
      if (e.min > 0) *never = true;
      return;
    }
    if (ie.kind == ExprKind::kEmpty) return;
    const bool small = ie.kind == ExprKind::kClass || (ie.kind == ExprKind::kLiteral && ie.literal.size() == 1) ||
                       ie.kind == ExprKind::kRef || ie.kind == ExprKind::kAlt;
    Element x;
    if (small) {
      Alternative one;
      LowerInto(item, &one, never);
      if (*never || !status_.ok()) return;
      x = one.at(0);
    } else {
      x = {Element::kRule, RuleFor(item)};
    }
    for (uint32_t i = 0; i < e.min && status_.ok(); ++i) {
      out->push_back(x);
      if (out->size() > kMaxElements) {
        status_ = absl::InvalidArgumentError(absl::StrCat("grammar exceeds ", kMaxElements, " elements"));
        return;
      }
    }
    if (e.max == kUnbounded) {
      out->push_back({Element::kRule, StarRule(x)});
    } else if (e.max > e.min) {
      out->push_back({Element::kRule, OptionalChain(x, e.max - e.min)});
    }
  }

  static uint64_t ElementKey(Element x) {
    return (static_cast<uint64_t>(x.kind) << 32) | static_cast<uint32_t>(x.arg);
  }

  // S ::= x S | ""
  int32_t StarRule(Element x) {
    auto it = star_rules_.find(ElementKey(x));
    if (it != star_rules_.end()) return it->second;
    const int32_t id = Synthetic();
    star_rules_[ElementKey(x)] = id;
    Push(id, {x, {Element::kRule, id}});
    Push(id, {});
    return id;
  }

  // O_k ::= x O_{k-1} | "", O_1 ::= x | "": up to k copies of x, nested so that the
  // alternatives stay deterministic (x? x? x? would multiply the matcher's stacks).
  int32_t OptionalChain(Element x, uint32_t k) {
    auto& chain = chains_[ElementKey(x)];
    while (chain.size() < k && status_.ok()) {
      const int32_t id = Synthetic();
      if (chain.empty()) {
        Push(id, {x});
      } else {
        Push(id, {x, {Element::kRule, chain.back()}});
      }
      Push(id, {});
      chain.push_back(id);
    }
    return status_.ok() ? chain[k - 1] : 0;
  }

  void RemoveUnproductive() {
    const size_t n = alts_.size();
    std::vector<char> productive(n, 0);
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (productive[r]) continue;
        for (const Alternative& alt : alts_[r]) {
          bool ok = true;
          for (const Element& el : alt) {
            if (el.kind == Element::kRule && !productive[el.arg]) {
              ok = false;
              break;
            }
          }
          if (ok) {
            productive[r] = 1;
            changed = true;
            break;
          }
        }
      }
    }
    for (size_t r = 0; r < n; ++r) {
      auto& alts = alts_[r];
      std::vector<Alternative> kept;
      for (Alternative& alt : alts) {
        bool ok = true;
        for (const Element& el : alt) {
          if (el.kind == Element::kRule && !productive[el.arg]) ok = false;
        }
        if (ok) kept.push_back(std::move(alt));
      }
      alts = std::move(kept);
    }
  }

  absl::Status CheckLeftRecursion() {
    const size_t n = alts_.size();
    std::vector<char> nullable(n, 0);
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        for (const Alternative& alt : alts_[r]) {
          bool all = true;
          for (const Element& el : alt) {
            if (el.kind == Element::kBytes || !nullable[el.arg]) {
              all = false;
              break;
            }
          }
          if (all) {
            nullable[r] = 1;
            changed = true;
            break;
          }
        }
      }
    }
    std::vector<std::vector<int32_t>> left(n);
    for (size_t r = 0; r < n; ++r) {
      for (const Alternative& alt : alts_[r]) {
        for (const Element& el : alt) {
          if (el.kind == Element::kBytes) break;
          left[r].push_back(el.arg);
          if (!nullable[el.arg]) break;
        }
      }
    }
    // Iterative DFS: 0 unvisited, 1 on the stack, 2 done.
    std::vector<char> color(n, 0);
    for (size_t start = 0; start < n; ++start) {
      if (color[start]) continue;
      std::vector<std::pair<int32_t, size_t>> stack = {{static_cast<int32_t>(start), 0}};
      color[start] = 1;
      while (!stack.empty()) {
        auto& [r, i] = stack.back();
        if (i < left[r].size()) {
          const int32_t next = left[r][i++];
          if (color[next] == 1) {
            return absl::InvalidArgumentError(absl::StrCat(
                "left recursion: rule '", OwnerName(names_[next]),
                "' can reach itself without consuming input (rewrite it with repetition, e.g. x ::= y (\"op\" y)*)"));
          }
          if (color[next] == 0) {
            color[next] = 1;
            stack.push_back({next, 0});
          }
        } else {
          color[r] = 2;
          stack.pop_back();
        }
      }
    }
    return absl::OkStatus();
  }

  std::shared_ptr<const Program> Flatten(int32_t root) {
    auto p = std::make_shared<Program>();
    p->root = root;
    p->rule_names = std::move(names_);
    p->byte_sets = std::move(byte_sets_);
    p->rule_alts.resize(alts_.size());
    for (const auto& [key, chain] : chains_) p->chains.push_back(chain);
    p->elements.reserve(n_elements_);
    for (size_t r = 0; r < alts_.size(); ++r) {
      for (const Alternative& alt : alts_[r]) {
        p->rule_alts[r].push_back(static_cast<int32_t>(p->elements.size()));
        p->elements.insert(p->elements.end(), alt.begin(), alt.end());
        p->elements.push_back({Element::kEnd, 0});
      }
    }
    return p;
  }

  const GrammarIr& ir_;
  absl::Status status_;
  std::string owner_;
  std::vector<std::vector<Alternative>> alts_;
  std::vector<std::string> names_;
  std::vector<ByteSet> byte_sets_;
  absl::flat_hash_map<std::array<uint64_t, 4>, int32_t> byte_set_ids_;
  absl::flat_hash_map<int32_t, int32_t> ir_rules_;
  absl::flat_hash_map<int32_t, int32_t> expr_rules_;  // >= 0 rule id; < 0: -(byte set id)-1
  absl::flat_hash_map<uint64_t, int32_t> star_rules_;
  absl::flat_hash_map<uint64_t, std::vector<int32_t>> chains_;
  std::vector<std::pair<int32_t, int32_t>> pending_;
  size_t n_elements_ = 0;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const Program>> CompileGrammar(const GrammarIr& ir) {
  return Lowerer(ir).Run();
}

}  // namespace ember::grammar
