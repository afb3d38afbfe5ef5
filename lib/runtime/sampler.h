// Next-token choice from a logits vector: greedy, or temperature sampling narrowed by
// top-k, top-p and min-p, after optional logit adjustments (repetition penalty, OpenAI's
// presence and frequency penalties, per-token logit bias). Deterministic: the same
// seed and inputs give the same tokens on every run and machine (the RNG and the
// float->uniform conversion are fully specified, not left to the standard library).
#ifndef EMBER_RUNTIME_SAMPLER_H_
#define EMBER_RUNTIME_SAMPLER_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ember {

namespace grammar {
struct Program;  // lib/grammar/program.h
}

// An additive adjustment of one token's logit (OpenAI's logit_bias).
struct LogitBias {
  int32_t token;
  float bias;  // finite, or -infinity to forbid the token
};

struct SamplerParams {
  float temperature = 0.0f;  // 0 = greedy
  int32_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
  float repeat_penalty = 1.0f;  // 1 = off
  int32_t repeat_last_n = 64;
  // OpenAI semantics: logit[t] -= presence_penalty * (count[t] > 0) + frequency_penalty *
  // count[t], where count[t] is how often the sampler picked t in the current completion
  // (since the last StartCompletion/Reset). 0 = off; negative values encourage repeats.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // Added to the logits before sampling; sorted by token, one entry per token (see
  // NormalizeLogitBias). Tokens at or past n_valid are ignored.
  std::vector<LogitBias> logit_bias;
  uint64_t seed = 0;
  // A compiled grammar (lib/grammar/grammar_constraint.h CompileConstraint) the session
  // constrains sampling with; null = unconstrained. Immutable, so copies share it. The
  // Sampler itself only takes the mask (Sample's `allowed`); the session keeps the parse
  // state, which needs the model's vocabulary.
  std::shared_ptr<const grammar::Program> grammar;
};

// Sorts `bias` by token keeping the last entry of each token.
void NormalizeLogitBias(std::vector<LogitBias>* bias);

// InvalidArgument naming the field if a value is out of range.
absl::Status ValidateSamplerParams(const SamplerParams& params);

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  // Restarts the random sequence from the seed and starts a new completion.
  void Reset();
  // Forgets the tokens picked so far (the counts of the presence/frequency penalties);
  // generation calls this at the start of each completion.
  void StartCompletion();

  // Picks a token id in [0, n_valid) (ids past n_valid, such as padding rows of the output
  // matrix, are never chosen). `history` is the context so far, for the repetition penalty.
  // The pick is counted for the presence/frequency penalties. Greedy ties go to the lowest id.
  // `allowed`, if not empty, is a bit set of token ids (word i holds ids 64i..64i+63, at
  // least n_valid bits) holding at least one id below n_valid: only those ids are
  // candidates, whatever their logits (even -infinity or NaN ones); the adjustments and the
  // narrowing (top_k, top_p, min_p) then apply among them.
  int32_t Sample(absl::Span<const float> logits, int32_t n_valid, absl::Span<const int32_t> history,
                 absl::Span<const uint64_t> allowed = {});

  const SamplerParams& params() const { return params_; }

  // The random generator's position, for session state files: the standard textual form
  // of std::mt19937_64 (decimal words separated by spaces, "C" locale).
  std::string SaveRngState() const;
  // Restores a position saved by SaveRngState; the sampler's parameters stay. Treats the
  // text as hostile: InvalidArgumentError (and no change) unless it parses completely.
  absl::Status LoadRngState(std::string_view state);

 private:
  double NextUniform();  // in [0, 1)
  int32_t Pick(absl::Span<const float> valid, int32_t n_valid, absl::Span<const uint64_t> allowed);
  // Applies the penalties and the bias to a copy of `valid`; returns the span to sample from.
  absl::Span<const float> Adjust(absl::Span<const float> valid, int32_t n_valid,
                                 absl::Span<const int32_t> history);

  SamplerParams params_;
  std::mt19937_64 rng_;
  std::vector<float> scratch_logits_;
  std::vector<std::pair<float, int32_t>> candidates_;
  std::vector<uint64_t> sort_keys_;  // candidates_ as LogitSortKeys while they are ordered
  absl::flat_hash_map<int32_t, int32_t> picked_;  // token -> times picked this completion
};

// Index of the largest value, lowest index on ties. -1 for an empty span.
int32_t ArgMax(absl::Span<const float> values);

}  // namespace ember

#endif  // EMBER_RUNTIME_SAMPLER_H_
