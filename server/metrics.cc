#include "server/metrics.h"

#include <cstdio>

namespace ember::server {
namespace {

int64_t SecondOf(Metrics::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void Line(std::string* out, const char* fmt, double value) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, value);
  out->append(buf);
}

}  // namespace

void Metrics::CountRequest(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

void Metrics::CountGeneration(int32_t prompt_tokens, int32_t reused_prompt_tokens, int32_t completion_tokens,
                              double time_to_first_token_s, double duration_s) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generations_;
  prompt_tokens_ += static_cast<uint64_t>(prompt_tokens);
  reused_prompt_tokens_ += static_cast<uint64_t>(reused_prompt_tokens);
  completion_tokens_ += static_cast<uint64_t>(completion_tokens);
  generation_seconds_ += duration_s;
  if (completion_tokens > 0) {
    ++ttft_count_;
    ttft_sum_ += time_to_first_token_s;
    for (size_t i = 0; i < kTtftBuckets.size(); ++i) {
      if (time_to_first_token_s <= kTtftBuckets[i]) ++ttft_buckets_[i];
    }
  }
}

void Metrics::CountTokens(int32_t n, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t s = SecondOf(now);
  if (!recent_tokens_.empty() && recent_tokens_.back().first == s) {
    recent_tokens_.back().second += n;
  } else {
    recent_tokens_.emplace_back(s, n);
  }
  while (!recent_tokens_.empty() && recent_tokens_.front().first <= s - kRateWindow.count()) {
    recent_tokens_.pop_front();
  }
}

std::string Metrics::Render(int64_t queue_depth, int64_t busy_slots, int64_t n_slots, Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP ember_requests_total HTTP requests by route and status code.\n";
  out += "# TYPE ember_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out += "ember_requests_total{route=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(count) + "\n";
  }
  out += "# HELP ember_generations_total Generations run to an end (including cancelled ones).\n";
  out += "# TYPE ember_generations_total counter\n";
  out += "ember_generations_total " + std::to_string(generations_) + "\n";
  out += "# HELP ember_prompt_tokens_total Prompt tokens of finished generations.\n";
  out += "# TYPE ember_prompt_tokens_total counter\n";
  out += "ember_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
  out += "# HELP ember_prompt_tokens_reused_total Prompt tokens served from a slot's KV cache.\n";
  out += "# TYPE ember_prompt_tokens_reused_total counter\n";
  out += "ember_prompt_tokens_reused_total " + std::to_string(reused_prompt_tokens_) + "\n";
  out += "# HELP ember_completion_tokens_total Generated tokens.\n";
  out += "# TYPE ember_completion_tokens_total counter\n";
  out += "ember_completion_tokens_total " + std::to_string(completion_tokens_) + "\n";
  out += "# HELP ember_generation_seconds_total Wall time spent in generations.\n";
  out += "# TYPE ember_generation_seconds_total counter\n";
  Line(&out, "ember_generation_seconds_total %.6f\n", generation_seconds_);

  // Tokens per second over the last full window (the current second is still filling).
  const int64_t s = SecondOf(now);
  int64_t window_tokens = 0;
  for (const auto& [second, n] : recent_tokens_) {
    if (second < s && second >= s - kRateWindow.count()) window_tokens += n;
  }
  out += "# HELP ember_tokens_per_second Generated tokens per second, all slots, last 10 s.\n";
  out += "# TYPE ember_tokens_per_second gauge\n";
  Line(&out, "ember_tokens_per_second %.3f\n", static_cast<double>(window_tokens) / kRateWindow.count());

  out += "# HELP ember_time_to_first_token_seconds From admission to the first generated token.\n";
  out += "# TYPE ember_time_to_first_token_seconds histogram\n";
  for (size_t i = 0; i < kTtftBuckets.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof(le), "%g", kTtftBuckets[i]);
    out += "ember_time_to_first_token_seconds_bucket{le=\"" + std::string(le) + "\"} " +
           std::to_string(ttft_buckets_[i]) + "\n";
  }
  out += "ember_time_to_first_token_seconds_bucket{le=\"+Inf\"} " + std::to_string(ttft_count_) + "\n";
  Line(&out, "ember_time_to_first_token_seconds_sum %.6f\n", ttft_sum_);
  out += "ember_time_to_first_token_seconds_count " + std::to_string(ttft_count_) + "\n";

  out += "# HELP ember_queue_depth Requests waiting for a slot.\n# TYPE ember_queue_depth gauge\n";
  out += "ember_queue_depth " + std::to_string(queue_depth) + "\n";
  out += "# HELP ember_slots_busy Slots generating.\n# TYPE ember_slots_busy gauge\n";
  out += "ember_slots_busy " + std::to_string(busy_slots) + "\n";
  out += "# HELP ember_slots Slots (sessions on the shared model).\n# TYPE ember_slots gauge\n";
  out += "ember_slots " + std::to_string(n_slots) + "\n";
  return out;
}

}  // namespace ember::server
