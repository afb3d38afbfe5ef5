#include "lib/runtime/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <locale>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/runtime/logit_order.h"

namespace ember {

absl::Status ValidateSamplerParams(const SamplerParams& p) {
  if (!std::isfinite(p.temperature) || p.temperature < 0.0f) {
    return absl::InvalidArgumentError(absl::StrCat("temperature must be >= 0 and finite, got ", p.temperature));
  }
  if (p.top_k < 0) return absl::InvalidArgumentError(absl::StrCat("top_k must be >= 0, got ", p.top_k));
  if (!(p.top_p >= 0.0f && p.top_p <= 1.0f)) {
    return absl::InvalidArgumentError(absl::StrCat("top_p must be in [0, 1], got ", p.top_p));
  }
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) {
    return absl::InvalidArgumentError(absl::StrCat("min_p must be in [0, 1], got ", p.min_p));
  }
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty)) {
    return absl::InvalidArgumentError(absl::StrCat("repeat_penalty must be > 0, got ", p.repeat_penalty));
  }
  if (p.repeat_last_n < 0) {
    return absl::InvalidArgumentError(absl::StrCat("repeat_last_n must be >= 0, got ", p.repeat_last_n));
  }
  if (!std::isfinite(p.presence_penalty)) {
    return absl::InvalidArgumentError(absl::StrCat("presence_penalty must be finite, got ", p.presence_penalty));
  }
  if (!std::isfinite(p.frequency_penalty)) {
    return absl::InvalidArgumentError(absl::StrCat("frequency_penalty must be finite, got ", p.frequency_penalty));
  }
  for (const LogitBias& b : p.logit_bias) {
    if (b.token < 0) return InvalidTokenError(absl::StrCat("logit bias for negative token id ", b.token));
    if (std::isnan(b.bias) || b.bias == INFINITY) {
      return absl::InvalidArgumentError(
          absl::StrCat("logit bias of token ", b.token, " must be finite or -infinity, got ", b.bias));
    }
  }
  return absl::OkStatus();
}

void NormalizeLogitBias(std::vector<LogitBias>* bias) {
  // Stable sort keeps the host's order among equal tokens; the last one wins.
  std::stable_sort(bias->begin(), bias->end(),
                   [](const LogitBias& a, const LogitBias& b) { return a.token < b.token; });
  std::vector<LogitBias> out;
  for (const LogitBias& b : *bias) {
    if (!out.empty() && out.back().token == b.token) {
      out.back() = b;
    } else {
      out.push_back(b);
    }
  }
  *bias = std::move(out);
}

int32_t ArgMax(absl::Span<const float> values) {
  if (values.empty()) return -1;
  // NaN never wins (unless everything is NaN); strict '>' gives ties to the lowest id.
  int32_t best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best] || (std::isnan(values[best]) && !std::isnan(values[i]))) {
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) {
  NormalizeLogitBias(&params_.logit_bias);
}

void Sampler::Reset() {
  rng_.seed(params_.seed);
  StartCompletion();
}

void Sampler::StartCompletion() { picked_.clear(); }

std::string Sampler::SaveRngState() const {
  std::ostringstream out;
  out.imbue(std::locale::classic());  // a host's global locale must not group digits
  out << rng_;
  return out.str();
}

absl::Status Sampler::LoadRngState(std::string_view state) {
  std::istringstream in{std::string(state)};
  in.imbue(std::locale::classic());
  std::mt19937_64 rng;
  in >> rng;
  if (in.fail()) return absl::InvalidArgumentError("sampler state: not a random generator state");
  in >> std::ws;
  if (!in.eof()) return absl::InvalidArgumentError("sampler state: trailing bytes");
  rng_ = rng;
  return absl::OkStatus();
}

double Sampler::NextUniform() {
  // 53 random bits -> [0, 1); mt19937_64's output sequence is fixed by the standard.
  return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);
}

int32_t Sampler::Sample(absl::Span<const float> logits, int32_t n_valid,
                        absl::Span<const int32_t> history, absl::Span<const uint64_t> allowed) {
  n_valid = std::min<int32_t>(n_valid, static_cast<int32_t>(logits.size()));
  if (!allowed.empty()) n_valid = std::min<int32_t>(n_valid, static_cast<int32_t>(allowed.size() * 64));
  if (n_valid <= 0) return -1;
  absl::Span<const float> valid = logits.subspan(0, static_cast<size_t>(n_valid));
  const int32_t token = Pick(Adjust(valid, n_valid, history), n_valid, allowed);
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) ++picked_[token];
  return token;
}

absl::Span<const float> Sampler::Adjust(absl::Span<const float> valid, int32_t n_valid,
                                        absl::Span<const int32_t> history) {
  const bool repeat = params_.repeat_penalty != 1.0f && params_.repeat_last_n > 0 && !history.empty();
  const bool openai = (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) && !picked_.empty();
  if (!repeat && !openai && params_.logit_bias.empty()) return valid;
  scratch_logits_.assign(valid.begin(), valid.end());
  if (repeat) {
    // Penalize each distinct recent token once: positive logits shrink, negative grow.
    const size_t n = std::min(history.size(), static_cast<size_t>(params_.repeat_last_n));
    absl::flat_hash_set<int32_t> seen;
    for (size_t i = history.size() - n; i < history.size(); ++i) {
      const int32_t id = history[i];
      if (id < 0 || id >= n_valid || !seen.insert(id).second) continue;
      float& l = scratch_logits_[static_cast<size_t>(id)];
      l = l > 0.0f ? l / params_.repeat_penalty : l * params_.repeat_penalty;
    }
  }
  if (openai) {
    for (const auto& [id, count] : picked_) {
      if (id < 0 || id >= n_valid) continue;
      scratch_logits_[static_cast<size_t>(id)] -=
          params_.presence_penalty + params_.frequency_penalty * static_cast<float>(count);
    }
  }
  for (const LogitBias& b : params_.logit_bias) {
    if (b.token >= n_valid) break;  // sorted: the rest cannot be sampled either
    scratch_logits_[static_cast<size_t>(b.token)] += b.bias;
  }
  return absl::MakeConstSpan(scratch_logits_);
}

int32_t Sampler::Pick(absl::Span<const float> valid, int32_t n_valid, absl::Span<const uint64_t> allowed) {
  if (allowed.empty()) {
    if (params_.temperature <= 0.0f) return ArgMax(valid);
    candidates_.resize(static_cast<size_t>(n_valid));
    // NaN logits (a broken model) rank last, so the comparator below is a strict weak order.
    for (int32_t i = 0; i < n_valid; ++i) {
      const float l = valid[static_cast<size_t>(i)];
      candidates_[static_cast<size_t>(i)] = {std::isnan(l) ? -INFINITY : l, i};
    }
  } else {
    // Only the allowed ids compete, so no logit (not even NaN or -infinity on every allowed
    // id) can make the pick leave the set: a grammar's guarantee does not depend on the
    // weights.
    candidates_.clear();
    for (size_t w = 0; w < allowed.size(); ++w) {
      for (uint64_t bits = allowed[w]; bits != 0; bits &= bits - 1) {
        const int32_t i = static_cast<int32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
        if (i >= n_valid) break;
        const float l = valid[static_cast<size_t>(i)];
        candidates_.push_back({std::isnan(l) ? -INFINITY : l, i});
      }
    }
    if (candidates_.empty()) return -1;
    if (params_.temperature <= 0.0f) {
      // Greedy: the largest logit, lowest id on ties (candidates are in id order).
      size_t best = 0;
      for (size_t i = 1; i < candidates_.size(); ++i) {
        if (candidates_[i].first > candidates_[best].first) best = i;
      }
      return candidates_[best].second;
    }
  }
  // Candidates sorted by logit descending (ties: lower id first), cut to top_k, as 64-bit
  // keys (lib/runtime/logit_order.h says why).
  size_t keep = candidates_.size();
  sort_keys_.resize(keep);
  for (size_t i = 0; i < keep; ++i) sort_keys_[i] = LogitSortKey(candidates_[i].first, candidates_[i].second);
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
    keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(sort_keys_.begin(), sort_keys_.begin() + static_cast<ptrdiff_t>(keep), sort_keys_.end());
  } else {
    std::sort(sort_keys_.begin(), sort_keys_.end());
  }
  candidates_.resize(keep);
  for (size_t i = 0; i < keep; ++i) candidates_[i] = LogitSortKeyCandidate(sort_keys_[i]);

  // Softmax at the temperature (max-subtracted; the first candidate is the max).
  std::vector<double> probs(keep);
  const double max_logit = candidates_[0].first;
  // Every candidate forbidden (a -infinity bias): nothing to weigh, keep the order.
  if (std::isinf(max_logit) && max_logit < 0) return candidates_[0].second;
  double sum = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp((static_cast<double>(candidates_[i].first) - max_logit) / params_.temperature);
    sum += probs[i];
  }
  for (double& p : probs) p /= sum;

  // top_p: the smallest prefix whose mass reaches top_p (at least one token).
  if (params_.top_p < 1.0f) {
    double mass = 0.0;
    size_t n = 0;
    while (n < keep) {
      mass += probs[n++];
      if (mass >= params_.top_p) break;
    }
    keep = std::max<size_t>(n, 1);
  }
  // min_p: drop tokens less likely than min_p times the most likely one.
  if (params_.min_p > 0.0f) {
    const double floor = params_.min_p * probs[0];
    size_t n = 1;
    while (n < keep && probs[n] >= floor) ++n;
    keep = n;
  }

  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) total += probs[i];
  double r = NextUniform() * total;
  for (size_t i = 0; i < keep; ++i) {
    r -= probs[i];
    if (r < 0.0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace ember
