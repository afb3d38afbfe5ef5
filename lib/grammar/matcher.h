// Runs a Program on bytes. A parse position is a set of pushdown stacks (one per way the
// input so far can continue); every distinct set is interned once as a state id, and the
// byte transitions between states are memoised, so the matcher grows into a lazily built
// DFA of the grammar as text flows through it. Token masks walk the vocabulary trie over
// those memoised transitions: after warm-up a step costs an array load per trie node.
//
// Not thread-safe: one Matcher per session (the Program it runs is shared read-only).
#ifndef EMBER_GRAMMAR_MATCHER_H_
#define EMBER_GRAMMAR_MATCHER_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "lib/grammar/program.h"

namespace ember::grammar {

class Matcher {
 public:
  static constexpr int32_t kDead = -1;

  explicit Matcher(std::shared_ptr<const Program> program);

  // The state before any input.
  int32_t initial() const { return initial_; }
  // The state after `byte`, or kDead when no stack accepts it (also when the grammar is so
  // ambiguous that the state would exceed kMaxStacksPerState).
  int32_t Step(int32_t state, uint8_t byte) {
    const int32_t next = transitions_[(static_cast<size_t>(state) << 8) | byte];
    return next != kUnknown ? next : ComputeStep(state, byte);
  }
  int32_t StepBytes(int32_t state, std::string_view bytes) {
    for (char c : bytes) {
      if (state == kDead) break;
      state = Step(state, static_cast<uint8_t>(c));
    }
    return state;
  }
  // Whether what led to `state` is a complete sentence of the grammar.
  bool IsAccepting(int32_t state) const { return states_[state].accepting; }
  // Whether some byte can follow.
  bool CanContinue(int32_t state) const { return can_continue_[state] != 0; }
  // Bytes that may come next (a quick filter before Step).
  const ByteSet& NextBytes(int32_t state) const { return states_[state].first; }

  // Bytes that lead from `state` back to itself (a string's ordinary characters, say):
  // computed on first use.
  const ByteSet& SelfLoopBytes(int32_t state);

  // A run: the largest set of bytes that all lead from a state to one same state, and how
  // many bytes of that set in a row are surely accepted from the state (any mix of them,
  // capped at the run horizon; a set that loops back to the state runs without end). Inside
  // a bounded repetition every count is a new state that never loops, yet its ordinary bytes
  // all advance the count alike: the run says how many more fit, so a token mask can accept
  // a whole trie subtree there as it does inside a free string. Computed on first use.
  struct Run {
    ByteSet bytes;
    int32_t length = 0;
  };
  Run UniformRun(int32_t state);
  // Runs longer than `horizon` bytes are reported as `horizon` (set it to the longest token).
  void set_run_horizon(int32_t horizon) { run_horizon_ = horizon; }

  // The state's stacks as position chains (top first) mapped through `positions`, sorted,
  // flattened with -1 separators, then the accepting flag: equal keys, equal masks (see
  // Program::ClampedPositions).
  void ClampedKey(int32_t state, const std::vector<int32_t>& positions, std::vector<int32_t>* key) const;

  size_t n_states() const { return states_.size(); }
  size_t MemoryBytes() const;

  // Drops every state and transition except `state`, which gets the returned new id; keeps
  // a long session's memory bounded. Invalidates all other state ids.
  int32_t Compact(int32_t state);

 private:
  static constexpr int32_t kUnknown = -2;

  struct StackNode {
    int32_t pos;   // element index: a kBytes element the stack waits on, or a return point
    int32_t cont;  // the caller's frame (a StackNode id), or -1 at the bottom
  };
  struct State {
    std::vector<int32_t> stacks;  // sorted StackNode ids whose element is kBytes
    bool accepting = false;
    ByteSet first;
  };

  int32_t Node(int32_t pos, int32_t cont);
  // Adds the stacks reachable from position `pos` with continuation `cont` without reading
  // a byte (calling rules, returning from finished ones) to the closure being built.
  void Close(int32_t pos, int32_t cont);
  int32_t Intern();  // the closure being built as a state (kDead when empty)
  int32_t ComputeStep(int32_t state, uint8_t byte);
  // The bytes accepted by exactly the same stacks of `state` as `byte` (which `state` must
  // accept): they all lead to the same next state.
  ByteSet SameStepBytes(int32_t state, uint8_t byte) const;
  // Fills run_bytes_/run_next_ of `state` (not its length).
  void ComputeRunStep(int32_t state);
  void ComputeRunLength(int32_t state);

  std::shared_ptr<const Program> program_;
  std::vector<StackNode> nodes_;
  absl::flat_hash_map<uint64_t, int32_t> node_ids_;
  std::vector<State> states_;
  // Hot data of the mask walk, flat: 256 memoised transitions per state (kUnknown until
  // first asked) and whether a state has any stack left.
  std::vector<int32_t> transitions_;
  std::vector<uint8_t> can_continue_;
  std::vector<ByteSet> self_loop_;
  std::vector<uint8_t> self_loop_known_;
  // UniformRun per state: its bytes, the state they lead to (kUnknown until computed) and its
  // length (-1 until computed).
  std::vector<ByteSet> run_bytes_;
  std::vector<int32_t> run_next_;
  std::vector<int32_t> run_length_;
  int32_t run_horizon_ = 0;
  std::vector<int32_t> run_path_;
  absl::flat_hash_map<std::vector<int32_t>, int32_t> state_ids_[2];  // by accepting flag
  int32_t initial_ = kDead;

  // Scratch of the closure being built.
  std::vector<int32_t> closure_;
  bool closure_accepting_ = false;
  bool closure_overflow_ = false;
  absl::flat_hash_set<uint64_t> closure_seen_;
  std::vector<std::pair<int32_t, int32_t>> work_;
};

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_MATCHER_H_
