#include "server/scheduler.h"

#include <algorithm>

namespace ember::server {

Scheduler::Scheduler(Engine& engine, int32_t max_queue, Metrics& metrics)
    : engine_(engine), metrics_(metrics), max_queue_(static_cast<size_t>(std::max(0, max_queue))) {
  assigned_.resize(static_cast<size_t>(engine.n_slots()));
  for (int32_t i = 0; i < engine.n_slots(); ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepting_ = false;
    stopping_ = true;
  }
  for (int32_t i = 0; i < n_slots(); ++i) engine_.Cancel(i);
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  // Whatever is still queued never ran.
  for (const auto& job : queue_) {
    std::lock_guard<std::mutex> lock(job->mu);
    job->result.finish = FinishReason::kCancelled;
    job->finished = true;
    job->cv.notify_all();
  }
}

Scheduler::Admission Scheduler::Submit(const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepting_) return Admission::kShuttingDown;
  // A free slot takes the job at once; among free slots, the one whose KV cache already
  // holds the longest prefix of the prompt (multi-turn chat pays only for new tokens).
  int32_t best = -1;
  size_t best_reuse = 0;
  for (int32_t i = 0; i < n_slots(); ++i) {
    if (assigned_[static_cast<size_t>(i)]) continue;
    const size_t reuse = engine_.ReusablePrefix(i, job->params.prompt);
    if (best < 0 || reuse > best_reuse) {
      best = i;
      best_reuse = reuse;
    }
  }
  if (best >= 0 && queue_.empty()) {
    assigned_[static_cast<size_t>(best)] = job;
    work_cv_.notify_all();
    return Admission::kAccepted;
  }
  if (queue_.size() >= max_queue_) return Admission::kQueueFull;
  queue_.push_back(job);
  return Admission::kAccepted;
}

void Scheduler::Cancel(const std::shared_ptr<Job>& job) {
  job->cancel.store(true, std::memory_order_release);
  bool was_queued = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find(queue_.begin(), queue_.end(), job);
    if (it != queue_.end()) {
      queue_.erase(it);
      was_queued = true;
    }
  }
  if (was_queued) {
    std::lock_guard<std::mutex> lock(job->mu);
    job->result.finish = FinishReason::kCancelled;
    job->finished = true;
    job->cv.notify_all();
    idle_cv_.notify_all();
    return;
  }
  int32_t slot = -1;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (!job->finished) slot = job->slot;
  }
  if (slot >= 0) engine_.Cancel(slot);
}

void Scheduler::Drain(Job::Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  accepting_ = false;
  auto busy = [&] {
    return !queue_.empty() || std::any_of(assigned_.begin(), assigned_.end(), [](const auto& j) { return j != nullptr; });
  };
  idle_cv_.wait_until(lock, deadline, [&] { return !busy(); });
  if (!busy()) return;
  std::vector<std::shared_ptr<Job>> left(queue_.begin(), queue_.end());
  for (const auto& j : assigned_) {
    if (j) left.push_back(j);
  }
  lock.unlock();
  for (const auto& job : left) Cancel(job);
  lock.lock();
  idle_cv_.wait(lock, [&] { return !busy(); });
}

int64_t Scheduler::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

int64_t Scheduler::busy_slots() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::count_if(assigned_.begin(), assigned_.end(), [](const auto& j) { return j != nullptr; });
}

void Scheduler::WorkerLoop(int32_t slot) {
  const size_t s = static_cast<size_t>(slot);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || assigned_[s] != nullptr; });
    if (stopping_ && assigned_[s] == nullptr) return;
    std::shared_ptr<Job> job = assigned_[s];
    lock.unlock();
    Run(slot, job);
    lock.lock();
    // Hand the slot to the oldest waiting job, if any.
    assigned_[s] = nullptr;
    if (!queue_.empty() && !stopping_) {
      assigned_[s] = queue_.front();
      queue_.pop_front();
    }
    idle_cv_.notify_all();
  }
}

void Scheduler::Run(int32_t slot, const std::shared_ptr<Job>& job) {
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->started = true;
    job->slot = slot;
    job->cv.notify_all();
  }
  const auto start = Job::Clock::now();
  GenerateResult result;
  int32_t pieces = 0;
  if (job->cancel.load(std::memory_order_acquire)) {
    result.finish = FinishReason::kCancelled;
  } else {
    result = engine_.Generate(
        slot, job->params,
        [&](std::string_view text) {
          ++pieces;
          metrics_.CountTokens(1);
          std::lock_guard<std::mutex> lock(job->mu);
          if (job->first_token == Job::Clock::time_point{}) job->first_token = Job::Clock::now();
          job->pending.append(text);
          job->cv.notify_all();
        },
        job->cancel);
  }
  const auto end = Job::Clock::now();
  // A piece of text is usually one token; held-back or empty pieces make up the rest.
  if (result.completion_tokens > pieces) metrics_.CountTokens(result.completion_tokens - pieces);
  std::lock_guard<std::mutex> lock(job->mu);
  using Seconds = std::chrono::duration<double>;
  const auto first = job->first_token == Job::Clock::time_point{} ? end : job->first_token;
  metrics_.CountGeneration(result.prompt_tokens, result.reused_tokens, result.completion_tokens,
                           Seconds(first - job->submitted).count(), Seconds(end - start).count());
  job->result = std::move(result);
  job->finished = true;
  job->cv.notify_all();
}

}  // namespace ember::server
