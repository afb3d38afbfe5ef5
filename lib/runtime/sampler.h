// Next-token choice from a logits vector: greedy, or temperature sampling narrowed by
// top-k, top-p and min-p, with an optional repetition penalty. Deterministic: the same
// seed and inputs give the same tokens on every run and machine (the RNG and the
// float->uniform conversion are fully specified, not left to the standard library).
#ifndef EMBER_RUNTIME_SAMPLER_H_
#define EMBER_RUNTIME_SAMPLER_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ember {

struct SamplerParams {
  float temperature = 0.0f;  // 0 = greedy
  int32_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
  float repeat_penalty = 1.0f;  // 1 = off
  int32_t repeat_last_n = 64;
  uint64_t seed = 0;
};

// InvalidArgument naming the field if a value is out of range.
absl::Status ValidateSamplerParams(const SamplerParams& params);

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  // Restarts the random sequence from the seed.
  void Reset();

  // Picks a token id in [0, n_valid) (ids past n_valid, such as padding rows of the output
  // matrix, are never chosen). `history` is the context so far, for the repetition penalty.
  // Greedy ties go to the lowest id.
  int32_t Sample(absl::Span<const float> logits, int32_t n_valid, absl::Span<const int32_t> history);

  const SamplerParams& params() const { return params_; }

  // The random generator's position, for session state files: the standard textual form
  // of std::mt19937_64 (decimal words separated by spaces, "C" locale).
  std::string SaveRngState() const;
  // Restores a position saved by SaveRngState; the sampler's parameters stay. Treats the
  // text as hostile: InvalidArgumentError (and no change) unless it parses completely.
  absl::Status LoadRngState(std::string_view state);

 private:
  double NextUniform();  // in [0, 1)

  SamplerParams params_;
  std::mt19937_64 rng_;
  std::vector<float> scratch_logits_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

// Index of the largest value, lowest index on ties. -1 for an empty span.
int32_t ArgMax(absl::Span<const float> values);

}  // namespace ember

#endif  // EMBER_RUNTIME_SAMPLER_H_
