#include "lib/grammar/grammar_constraint.h"

#include <bit>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/grammar/gbnf_parser.h"
#include "lib/grammar/json_schema.h"
#include "lib/grammar/limits.h"

namespace ember::grammar {

namespace {
// Subtrees smaller than this are walked node by node (checking is not worth it).
constexpr uint32_t kWholeSubtreeMinNodes = 16;
}  // namespace

absl::StatusOr<std::shared_ptr<const Program>> CompileConstraint(GrammarKind kind, std::string_view text) {
  if (text.size() > kMaxGrammarTextBytes) {
    return absl::InvalidArgumentError(absl::StrCat("grammar text exceeds ", kMaxGrammarTextBytes, " bytes"));
  }
  GrammarIr ir;
  switch (kind) {
    case GrammarKind::kGbnf: {
      absl::Status st = ParseGbnf(text, &ir);
      if (!st.ok()) return st;
      break;
    }
    case GrammarKind::kJsonSchema: {
      absl::Status st = JsonSchemaToGrammar(text, &ir);
      if (!st.ok()) return st;
      break;
    }
    case GrammarKind::kJsonObject:
      JsonObjectGrammar(&ir);
      break;
    default:
      return absl::InvalidArgumentError("unknown grammar kind");
  }
  return CompileGrammar(ir);
}

int32_t TokenMask::Count() const {
  int32_t c = 0;
  for (uint64_t w : words) c += std::popcount(w);
  return c;
}

GrammarConstraint::GrammarConstraint(std::shared_ptr<const Program> program, std::shared_ptr<const TokenTrie> trie)
    : program_(program), trie_(std::move(trie)), matcher_(std::move(program)), state_(matcher_.initial()) {
  matcher_.set_run_horizon(static_cast<int32_t>(trie_->max_depth()));
  // A token of at most max_depth bytes consumes at most that many repetitions.
  const size_t keep = trie_->max_depth() + 2;
  for (const auto& chain : program_->chains) use_clamped_keys_ = use_clamped_keys_ || chain.size() > keep;
  if (use_clamped_keys_) clamped_positions_ = program_->ClampedPositions(keep);
}

void GrammarConstraint::ComputeMask(TokenMask* mask) {
  mask->Reset(trie_->n_vocab());
  if (ended_) return;
  auto cached = mask_cache_.find(state_);
  bool have = false;
  if (cached != mask_cache_.end()) {
    mask->words = cached->second;
    have = true;
  } else if (use_clamped_keys_) {
    matcher_.ClampedKey(state_, clamped_positions_, &key_scratch_);
    auto it = clamped_cache_.find(key_scratch_);
    if (it != clamped_cache_.end()) {
      mask->words = it->second;
      have = true;
    }
  }
  if (!have) {
    const std::vector<TokenTrie::Node>& nodes = trie_->nodes();
    const std::vector<int32_t>& ids = trie_->token_ids();
    depth_state_.resize(trie_->max_depth() + 1);
    depth_state_[0] = state_;
    uint64_t* words = mask->words.data();
    const size_t n = nodes.size();
    size_t i = 0;
    while (i < n) {
      const TokenTrie::Node& node = nodes[i];
      const int32_t parent = depth_state_[node.depth - 1];
      const int32_t s = matcher_.Step(parent, node.byte);
      if (s == Matcher::kDead) {
        i = node.subtree_end;
        continue;
      }
      for (uint32_t t = 0; t < node.token_count; ++t) {
        const int32_t id = ids[node.token_begin + t];
        words[id >> 6] |= uint64_t{1} << (id & 63);
      }
      if (!matcher_.CanContinue(s)) {
        i = node.subtree_end;
        continue;
      }
      // A large subtree is allowed as a whole, without visiting its nodes, when every
      // string of its bytes and at most its height is surely accepted from `s`: its bytes
      // all lead from `s` back to `s` (inside a string, say), or they all belong to the run
      // of `s` and the run is long enough (inside a bounded string, where every character
      // moves to the next count; see Matcher::UniformRun).
      if (node.subtree_end - i >= kWholeSubtreeMinNodes) {
        const ByteSet& below = trie_->bytes_below(i);
        // (The self-loop check only where the node's own byte already looped: computing a
        // state's loop bytes steps every byte.)
        bool whole = s == parent && below.SubsetOf(matcher_.SelfLoopBytes(s));
        if (!whole) {
          const Matcher::Run run = matcher_.UniformRun(s);
          whole = node.deepest - node.depth <= run.length && below.SubsetOf(run.bytes);
        }
        if (whole) {
          const uint32_t end = trie_->tokens_from(node.subtree_end);
          for (uint32_t t = trie_->tokens_from(i); t < end; ++t) {
            const int32_t id = ids[t];
            words[id >> 6] |= uint64_t{1} << (id & 63);
          }
          i = node.subtree_end;
          continue;
        }
      }
      depth_state_[node.depth] = s;
      ++i;
    }
    const size_t bytes = mask->words.size() * sizeof(uint64_t);
    if (mask_cache_bytes_ + 2 * bytes > kMaskCacheBytes) {
      mask_cache_.clear();
      clamped_cache_.clear();
      mask_cache_bytes_ = 0;
    }
    mask_cache_.emplace(state_, mask->words);
    mask_cache_bytes_ += bytes;
    if (use_clamped_keys_) {
      clamped_cache_.emplace(key_scratch_, mask->words);
      mask_cache_bytes_ += bytes;
    }
  }
  const int32_t eos = trie_->eos();
  if (eos >= 0 && eos < mask->n && matcher_.IsAccepting(state_)) mask->Set(eos);
}

bool GrammarConstraint::AcceptBytes(std::string_view bytes) {
  if (ended_) return false;
  const int32_t next = matcher_.StepBytes(state_, bytes);
  if (next == Matcher::kDead) return false;
  state_ = next;
  accepted_.append(bytes);
  MaybeCompact();
  return true;
}

absl::Status GrammarConstraint::Accept(int32_t token) {
  if (token < 0 || token >= trie_->n_vocab()) {
    return absl::InvalidArgumentError(absl::StrCat("token ", token, " is out of range"));
  }
  if (ended_) return absl::InvalidArgumentError("the grammar already ended with EOS");
  if (token == trie_->eos()) {
    if (!matcher_.IsAccepting(state_)) return absl::InvalidArgumentError("EOS before the grammar is complete");
    ended_ = true;
    return absl::OkStatus();
  }
  const std::string& bytes = trie_->token_bytes(token);
  if (bytes.empty() || !AcceptBytes(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("token ", token, " is not allowed by the grammar here"));
  }
  return absl::OkStatus();
}

bool GrammarConstraint::IsComplete() const { return matcher_.IsAccepting(state_); }

bool GrammarConstraint::CanContinue() const { return !ended_ && matcher_.CanContinue(state_); }

void GrammarConstraint::Reset() {
  state_ = matcher_.initial();
  accepted_.clear();
  ended_ = false;
}

absl::Status GrammarConstraint::Restore(std::string_view bytes, bool ended) {
  // `bytes` may view accepted_ itself, which the replay rewrites.
  const std::string text(bytes);
  const std::string previous = accepted_;
  const bool previous_ended = ended_;
  absl::Status status = Replay(text, ended);
  if (status.ok()) return status;
  // A compaction during the failed replay may have dropped the old state's id, but the old
  // text leads back to the same parse position.
  if (absl::Status back = Replay(previous, previous_ended); !back.ok()) {
    return absl::InternalError(absl::StrCat("grammar state lost replaying its own text: ", back.message()));
  }
  return status;
}

absl::Status GrammarConstraint::Replay(std::string_view bytes, bool ended) {
  Reset();
  // One byte at a time: each step adds at most one matcher state, and AcceptBytes compacts
  // the matcher when it grows too large, as it does between tokens in normal use.
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (!AcceptBytes(bytes.substr(i, 1))) {
      Reset();
      return absl::InvalidArgumentError(absl::StrFormat(
          "the grammar does not accept byte %d (0x%02x) of the %d-byte text", i,
          static_cast<unsigned char>(bytes[i]), bytes.size()));
    }
  }
  if (ended) {
    if (trie_->eos() < 0 || !IsComplete()) {
      Reset();
      return absl::InvalidArgumentError(
          trie_->eos() < 0 ? "the grammar state says EOS was accepted, but the vocabulary has no EOS"
                           : "the grammar state says EOS was accepted, but its text is not complete");
    }
    ended_ = true;
  }
  return absl::OkStatus();
}

void GrammarConstraint::MaybeCompact() {
  if (matcher_.n_states() <= kMaxMatcherStates) return;
  state_ = matcher_.Compact(state_);
  mask_cache_.clear();
  clamped_cache_.clear();
  mask_cache_bytes_ = 0;
}

}  // namespace ember::grammar
