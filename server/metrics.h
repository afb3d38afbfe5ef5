// Server counters, exposed as Prometheus text at GET /metrics. Thread-safe.
#ifndef EMBER_SERVER_METRICS_H_
#define EMBER_SERVER_METRICS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace ember::server {

class Metrics {
 public:
  using Clock = std::chrono::steady_clock;

  // One finished HTTP request on `route` with its status code.
  void CountRequest(const std::string& route, int status);
  // One finished generation.
  void CountGeneration(int32_t prompt_tokens, int32_t reused_prompt_tokens, int32_t completion_tokens,
                       double time_to_first_token_s, double duration_s);
  // Generated tokens as they come (for the tokens/s gauge).
  void CountTokens(int32_t n, Clock::time_point now = Clock::now());

  // Prometheus text exposition; the gauges are passed in by their owner.
  std::string Render(int64_t queue_depth, int64_t busy_slots, int64_t n_slots,
                     Clock::time_point now = Clock::now()) const;

  // Bucket upper bounds of the time-to-first-token histogram, seconds.
  static constexpr std::array<double, 12> kTtftBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                          0.5,   1.0,  2.5,   5.0,  10.0, 30.0};
  // The tokens/s gauge averages over this window.
  static constexpr std::chrono::seconds kRateWindow{10};

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t generations_ = 0;
  uint64_t prompt_tokens_ = 0;
  uint64_t reused_prompt_tokens_ = 0;
  uint64_t completion_tokens_ = 0;
  std::array<uint64_t, kTtftBuckets.size()> ttft_buckets_{};
  double ttft_sum_ = 0.0;
  uint64_t ttft_count_ = 0;
  double generation_seconds_ = 0.0;
  // Per-second token counts over the last kRateWindow.
  mutable std::deque<std::pair<int64_t, int64_t>> recent_tokens_;
};

}  // namespace ember::server

#endif  // EMBER_SERVER_METRICS_H_
