// The hook a sampler uses to constrain generation: compile a grammar once (GBNF, a JSON
// Schema or "any JSON object"), then per session a GrammarConstraint answers which tokens may
// come next (ComputeMask, before sampling) and follows the chosen one (Accept, after).
//
// Sharing: the compiled Program and the vocabulary TokenTrie are immutable and may be shared
// by any number of threads; a GrammarConstraint holds one session's parse state and caches
// (masks per parser state, memoised transitions), so it is used by one thread at a time.
#ifndef EMBER_GRAMMAR_GRAMMAR_CONSTRAINT_H_
#define EMBER_GRAMMAR_GRAMMAR_CONSTRAINT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/grammar/matcher.h"
#include "lib/grammar/program.h"
#include "lib/grammar/token_trie.h"

namespace ember::grammar {

// Values match the C API's EMBER_GRAMMAR_* constants (phase 2).
enum class GrammarKind { kGbnf = 1, kJsonSchema = 2, kJsonObject = 3 };

// Parses and compiles `text` (ignored for kJsonObject). InvalidArgumentError with a
// line:column (GBNF) or JSON pointer (schema) on a bad or unsupported grammar.
absl::StatusOr<std::shared_ptr<const Program>> CompileConstraint(GrammarKind kind, std::string_view text);

// A set of token ids as bits: word i holds ids 64i..64i+63.
struct TokenMask {
  std::vector<uint64_t> words;
  int32_t n = 0;
  void Reset(int32_t n_vocab) {
    n = n_vocab;
    words.assign((static_cast<size_t>(n_vocab) + 63) / 64, 0);
  }
  bool Test(int32_t id) const { return (words[id >> 6] >> (id & 63)) & 1; }
  void Set(int32_t id) { words[id >> 6] |= uint64_t{1} << (id & 63); }
  int32_t Count() const;
};

class GrammarConstraint {
 public:
  GrammarConstraint(std::shared_ptr<const Program> program, std::shared_ptr<const TokenTrie> trie);

  // Fills `mask` (resized to the trie's n_vocab) with the tokens whose bytes can extend the
  // text so far within the grammar, plus EOS when the text is already complete.
  void ComputeMask(TokenMask* mask);
  // Follows `token`. InvalidArgumentError (state unchanged) if the grammar does not allow it.
  // EOS is allowed only when IsComplete(); after it nothing can follow.
  absl::Status Accept(int32_t token);
  // Follows raw bytes (what a token renders as); false (state unchanged) if not allowed.
  bool AcceptBytes(std::string_view bytes);
  // The text so far is a complete sentence of the grammar (it may still be extendable).
  bool IsComplete() const;
  // Some token can still follow.
  bool CanContinue() const;
  // Back to the empty text (keeps the caches).
  void Reset();

  // The parse state as data, for session state files (lib/runtime/session_state.h): the
  // bytes followed since Reset() (every Accept()ed token's bytes and every AcceptBytes()
  // argument, in order) and whether EOS was accepted after them. A parse position is a set
  // of pushdown stacks whose ids only mean something inside this matcher, so the text that
  // leads there is the portable form; the matcher is deterministic, so replaying it reaches
  // the same position (the same masks, the same IsComplete/CanContinue).
  std::string_view accepted_bytes() const { return accepted_; }
  bool ended() const { return ended_; }
  // Resets, then follows `bytes` and, if `ended`, EOS: afterwards the constraint is where
  // one that had accepted that text (and EOS) would be. Replays byte by byte, so memory
  // stays bounded (the matcher is compacted as in normal use) whatever the length.
  // InvalidArgumentError (naming the offset of the first byte the grammar refuses, or
  // saying EOS is not allowed there) with the state unchanged if this grammar does not
  // accept that text; the caches are kept either way.
  absl::Status Restore(std::string_view bytes, bool ended);

  const TokenTrie& trie() const { return *trie_; }

 private:
  void MaybeCompact();
  // Reset, then `bytes` one at a time and EOS if `ended`; on failure back at the empty
  // text, with the error Restore reports.
  absl::Status Replay(std::string_view bytes, bool ended);

  std::shared_ptr<const Program> program_;
  std::shared_ptr<const TokenTrie> trie_;
  Matcher matcher_;
  int32_t state_;
  std::string accepted_;  // the bytes that led to state_ (accepted_bytes())
  bool ended_ = false;    // EOS accepted
  absl::flat_hash_map<int32_t, std::vector<uint64_t>> mask_cache_;
  // Masks by clamped key (bounded repetitions with more room left than the longest token
  // share one mask); used only when the program has such chains.
  bool use_clamped_keys_ = false;
  std::vector<int32_t> clamped_positions_;
  absl::flat_hash_map<std::vector<int32_t>, std::vector<uint64_t>> clamped_cache_;
  std::vector<int32_t> key_scratch_;
  size_t mask_cache_bytes_ = 0;
  std::vector<int32_t> depth_state_;
};

}  // namespace ember::grammar

#endif  // EMBER_GRAMMAR_GRAMMAR_CONSTRAINT_H_
