#include "lib/grammar/matcher.h"

#include <algorithm>
#include <utility>

#include "lib/grammar/limits.h"

namespace ember::grammar {

namespace {
uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
}  // namespace

Matcher::Matcher(std::shared_ptr<const Program> program) : program_(std::move(program)) {
  closure_.clear();
  closure_seen_.clear();
  closure_accepting_ = false;
  closure_overflow_ = false;
  for (int32_t start : program_->rule_alts[program_->root]) Close(start, -1);
  initial_ = Intern();
  if (initial_ == kDead) {
    // A grammar always matches something (CompileGrammar checks), so this only happens
    // when the start state overflows; keep a valid, empty, non-accepting state.
    closure_.clear();
    closure_overflow_ = false;
    closure_accepting_ = false;
    states_.emplace_back();
    can_continue_.push_back(0);
    self_loop_.emplace_back();
    self_loop_known_.push_back(1);
    run_bytes_.emplace_back();
    run_next_.push_back(kDead);
    run_length_.push_back(0);
    transitions_.insert(transitions_.end(), 256, kDead);
    initial_ = 0;
  }
}

int32_t Matcher::Node(int32_t pos, int32_t cont) {
  auto [it, inserted] = node_ids_.try_emplace(PairKey(pos, cont), static_cast<int32_t>(nodes_.size()));
  if (inserted) nodes_.push_back({pos, cont});
  return it->second;
}

void Matcher::Close(int32_t pos, int32_t cont) {
  const std::vector<Element>& el = program_->elements;
  work_.clear();
  work_.push_back({pos, cont});
  while (!work_.empty()) {
    auto [p, c] = work_.back();
    work_.pop_back();
    if (!closure_seen_.insert(PairKey(p, c)).second) continue;
    const Element& e = el[p];
    switch (e.kind) {
      case Element::kBytes:
        if (closure_.size() >= kMaxStacksPerState) {
          closure_overflow_ = true;
          break;
        }
        closure_.push_back(Node(p, c));
        break;
      case Element::kEnd:
        if (c < 0) {
          closure_accepting_ = true;
        } else {
          work_.push_back({nodes_[c].pos, nodes_[c].cont});
        }
        break;
      case Element::kRule: {
        // A call in tail position returns straight to our caller: no frame is pushed, so
        // right recursion (x ::= "a" x | "") runs in constant stack depth.
        const int32_t ret = el[p + 1].kind == Element::kEnd ? c : Node(p + 1, c);
        for (int32_t start : program_->rule_alts[e.arg]) work_.push_back({start, ret});
        break;
      }
    }
  }
}

int32_t Matcher::Intern() {
  if (closure_overflow_ || (closure_.empty() && !closure_accepting_)) return kDead;
  std::sort(closure_.begin(), closure_.end());
  closure_.erase(std::unique(closure_.begin(), closure_.end()), closure_.end());
  auto& ids = state_ids_[closure_accepting_ ? 1 : 0];
  auto it = ids.find(closure_);
  if (it != ids.end()) return it->second;
  State s;
  s.accepting = closure_accepting_;
  for (int32_t n : closure_) s.first.Or(program_->byte_sets[program_->elements[nodes_[n].pos].arg]);
  s.stacks = closure_;
  const int32_t id = static_cast<int32_t>(states_.size());
  can_continue_.push_back(s.stacks.empty() ? 0 : 1);
  self_loop_.emplace_back();
  self_loop_known_.push_back(0);
  run_bytes_.emplace_back();
  run_next_.push_back(kUnknown);
  run_length_.push_back(-1);
  // Bytes no stack accepts are dead right away; the others are computed on first use.
  for (int b = 0; b < 256; ++b) transitions_.push_back(s.first.Test(static_cast<uint8_t>(b)) ? kUnknown : kDead);
  states_.push_back(std::move(s));
  ids.emplace(closure_, id);
  return id;
}

ByteSet Matcher::SameStepBytes(int32_t state, uint8_t byte) const {
  ByteSet same = states_[state].first;
  for (int32_t n : states_[state].stacks) {
    const ByteSet& accepts = program_->byte_sets[program_->elements[nodes_[n].pos].arg];
    if (accepts.Test(byte)) {
      same.And(accepts);
    } else {
      same.AndNot(accepts);
    }
  }
  return same;
}

int32_t Matcher::ComputeStep(int32_t state, uint8_t byte) {
  int32_t result = kDead;
  if (states_[state].first.Test(byte)) {
    // The next state depends only on which stacks accept the byte, so one closure serves
    // every byte accepted by the same stacks (a string's ~90 ordinary ASCII bytes, say):
    // entering a new state then costs one closure per kind of byte, not one per byte.
    const ByteSet same = SameStepBytes(state, byte);
    closure_.clear();
    closure_seen_.clear();
    closure_accepting_ = false;
    closure_overflow_ = false;
    // Copy: Close() may grow nodes_ but never states_, still the state's vector is
    // read while other containers change.
    const std::vector<int32_t> stacks = states_[state].stacks;
    for (int32_t n : stacks) {
      const StackNode node = nodes_[n];
      const Element& e = program_->elements[node.pos];
      if (program_->byte_sets[e.arg].Test(byte)) Close(node.pos + 1, node.cont);
    }
    result = Intern();
    int32_t* row = &transitions_[static_cast<size_t>(state) << 8];
    same.ForEach([&](uint8_t b) { row[b] = result; });
  }
  transitions_[(static_cast<size_t>(state) << 8) | byte] = result;
  return result;
}

void Matcher::ComputeRunStep(int32_t state) {
  // States with many stacks (an ambiguous grammar) are left without a run: splitting their
  // bytes would cost more than the run saves.
  constexpr size_t kMaxRunStacks = 64;
  ByteSet best;
  int best_count = 0;
  uint8_t best_byte = 0;
  if (states_[state].stacks.size() <= kMaxRunStacks) {
    ByteSet rest = states_[state].first;
    while (!rest.Empty()) {
      const uint8_t b = rest.Lowest();
      const ByteSet same = SameStepBytes(state, b);
      rest.AndNot(same);
      const int count = same.Count();
      if (count > best_count) {
        best = same;
        best_count = count;
        best_byte = b;
      }
    }
  }
  int32_t next = kDead;
  if (best_count > 0) next = Step(state, best_byte);  // may add states: index the vectors after
  if (next == kDead) best = ByteSet{};
  run_bytes_[state] = best;
  run_next_[state] = next;
}

void Matcher::ComputeRunLength(int32_t state) {
  // length(x) = 0 without run bytes, unbounded when they loop back to x, else 1 plus, when
  // x's run bytes are all run bytes of the next state too, the next state's length. Walk
  // forward until a known length, a loop, a shrinking set or the horizon, then fill back.
  const int32_t horizon = run_horizon_;
  std::vector<int32_t>& path = run_path_;
  path.clear();
  int32_t x = state;
  int32_t tail = 0;  // the length of the state after path.back() (counted when it contains its bytes)
  bool truncated = false;
  for (;;) {
    if (run_length_[x] >= 0) {
      tail = run_length_[x];
      break;
    }
    if (run_next_[x] == kUnknown) ComputeRunStep(x);
    if (run_bytes_[x].Empty()) {
      run_length_[x] = 0;
      tail = 0;
      break;
    }
    if (run_next_[x] == x) {
      run_length_[x] = horizon;
      tail = horizon;
      break;
    }
    path.push_back(x);
    if (static_cast<int32_t>(path.size()) >= horizon) {
      truncated = true;
      tail = 0;
      break;
    }
    const int32_t next = run_next_[x];
    if (run_next_[next] == kUnknown) ComputeRunStep(next);
    if (!run_bytes_[x].SubsetOf(run_bytes_[next])) {
      tail = 0;
      break;
    }
    x = next;
  }
  int32_t length = tail;
  for (size_t j = path.size(); j-- > 0;) {
    length = std::min(horizon, length + 1);
    // A walk cut at the horizon proves only the lengths that reach it; the others are
    // computed again (with further to look) when asked.
    if (!truncated || length == horizon) run_length_[path[j]] = length;
  }
}

Matcher::Run Matcher::UniformRun(int32_t state) {
  if (run_length_[state] < 0) ComputeRunLength(state);
  return Run{run_bytes_[state], run_length_[state]};
}

const ByteSet& Matcher::SelfLoopBytes(int32_t state) {
  if (!self_loop_known_[state]) {
    ByteSet loop;
    const ByteSet first = states_[state].first;
    for (int b = 0; b < 256; ++b) {
      if (first.Test(static_cast<uint8_t>(b)) && Step(state, static_cast<uint8_t>(b)) == state) loop.Set(static_cast<uint8_t>(b));
    }
    self_loop_[state] = loop;
    self_loop_known_[state] = 1;
  }
  return self_loop_[state];
}

void Matcher::ClampedKey(int32_t state, const std::vector<int32_t>& positions, std::vector<int32_t>* key) const {
  std::vector<std::vector<int32_t>> chains;
  for (int32_t n : states_[state].stacks) {
    std::vector<int32_t> chain;
    for (int32_t c = n; c >= 0; c = nodes_[c].cont) chain.push_back(positions[nodes_[c].pos]);
    chains.push_back(std::move(chain));
  }
  std::sort(chains.begin(), chains.end());
  chains.erase(std::unique(chains.begin(), chains.end()), chains.end());
  key->clear();
  for (const auto& chain : chains) {
    key->insert(key->end(), chain.begin(), chain.end());
    key->push_back(-1);
  }
  key->push_back(states_[state].accepting ? 1 : 0);
}

size_t Matcher::MemoryBytes() const {
  size_t n = nodes_.size() * sizeof(StackNode) * 3;  // vector + hash map entry
  for (const State& s : states_) {
    n += sizeof(State) + s.stacks.size() * sizeof(int32_t) * 2;
  }
  n += transitions_.capacity() * sizeof(int32_t) + can_continue_.capacity();
  n += (self_loop_.capacity() + run_bytes_.capacity()) * sizeof(ByteSet) +
       (run_next_.capacity() + run_length_.capacity()) * sizeof(int32_t);
  return n;
}

int32_t Matcher::Compact(int32_t state) {
  // Re-express each stack of `state` as its chain of positions, then rebuild from scratch.
  std::vector<std::vector<int32_t>> chains;
  for (int32_t n : states_[state].stacks) {
    std::vector<int32_t> chain;
    for (int32_t c = n; c >= 0; c = nodes_[c].cont) chain.push_back(nodes_[c].pos);
    chains.push_back(std::move(chain));
  }
  const bool accepting = states_[state].accepting;
  nodes_.clear();
  node_ids_.clear();
  states_.clear();
  transitions_.clear();
  can_continue_.clear();
  self_loop_.clear();
  self_loop_known_.clear();
  run_bytes_.clear();
  run_next_.clear();
  run_length_.clear();
  state_ids_[0].clear();
  state_ids_[1].clear();
  closure_.clear();
  closure_seen_.clear();
  for (const auto& chain : chains) {
    int32_t cont = -1;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) cont = Node(*it, cont);
    closure_.push_back(cont);
  }
  closure_accepting_ = accepting;
  closure_overflow_ = false;
  const int32_t id = Intern();
  // Rebuild the start state too, so initial() stays valid.
  const std::vector<int32_t> kept = std::move(closure_);
  closure_.clear();
  closure_seen_.clear();
  closure_accepting_ = false;
  for (int32_t start : program_->rule_alts[program_->root]) Close(start, -1);
  initial_ = Intern();
  (void)kept;
  return id;
}

}  // namespace ember::grammar
