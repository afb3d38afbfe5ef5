#include "server/scheduler.h"

#include <algorithm>

namespace ember::server {

Scheduler::Scheduler(Engine& engine, int32_t max_queue, Metrics& metrics)
    : engine_(engine), metrics_(metrics), max_queue_(static_cast<size_t>(std::max(0, max_queue))) {
  assigned_.resize(static_cast<size_t>(engine.n_slots()));
  decoder_ = std::thread([this] { DecodeLoop(); });
}

Scheduler::~Scheduler() {
  std::vector<std::shared_ptr<Job>> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepting_ = false;
    stopping_ = true;
    for (const auto& job : assigned_) {
      if (job) running.push_back(job);
    }
  }
  for (const auto& job : running) Cancel(job);
  work_cv_.notify_all();
  decoder_.join();
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
  // With a free slot and nobody waiting the job gets a slot at once (AssignQueued);
  // otherwise it waits, within the queue's bound.
  const bool free_slot = std::any_of(assigned_.begin(), assigned_.end(), [](const auto& j) { return j == nullptr; });
  if (!(free_slot && queue_.empty()) && queue_.size() >= max_queue_) return Admission::kQueueFull;
  queue_.push_back(job);
  AssignQueued();
  work_cv_.notify_all();
  return Admission::kAccepted;
}

void Scheduler::AssignQueued() {
  if (stopping_) return;
  while (!queue_.empty()) {
    // The oldest job takes the free slot whose KV cache already holds the longest prefix
    // of its prompt (multi-turn chat pays only for new tokens).
    const std::shared_ptr<Job>& job = queue_.front();
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
    if (best < 0) return;
    assigned_[static_cast<size_t>(best)] = job;
    queue_.pop_front();
  }
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
  // Interrupts a prompt evaluation at once (a running generation leaves at the next step
  // anyway). Under job->mu: the slot runs this job until `finished` is set, so the cancel
  // cannot reach the slot's next job.
  std::lock_guard<std::mutex> lock(job->mu);
  if (!job->finished && job->slot >= 0) engine_.Cancel(job->slot);
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

void Scheduler::DecodeLoop() {
  std::vector<Running> running(static_cast<size_t>(n_slots()));
  std::vector<int32_t> active;
  while (true) {
    // Between steps: jobs join.
    std::vector<int32_t> joining;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto has_work = [&] {
        for (size_t s = 0; s < assigned_.size(); ++s) {
          if (assigned_[s] != nullptr) return true;  // running or about to start
        }
        return false;
      };
      work_cv_.wait(lock, [&] { return stopping_ || has_work(); });
      if (stopping_ && !has_work()) return;
      for (size_t s = 0; s < assigned_.size(); ++s) {
        if (assigned_[s] != nullptr && running[s].job == nullptr) joining.push_back(static_cast<int32_t>(s));
      }
    }
    for (int32_t s : joining) {
      const std::shared_ptr<Job> job = [&] {
        std::lock_guard<std::mutex> lock(mu_);
        return assigned_[static_cast<size_t>(s)];
      }();
      StartJob(s, job, running[static_cast<size_t>(s)]);
    }
    // Jobs leave: cancelled ones at once, without another token.
    active.clear();
    for (int32_t s = 0; s < n_slots(); ++s) {
      Running& r = running[static_cast<size_t>(s)];
      if (r.job == nullptr) continue;
      if (r.job->cancel.load(std::memory_order_acquire)) {
        Complete(s, r, engine_.Finish(s, /*cancelled=*/true));
        continue;
      }
      active.push_back(s);
    }
    if (active.empty()) continue;
    engine_.Step(active);
    for (int32_t s : active) {
      if (engine_.Done(s)) Complete(s, running[static_cast<size_t>(s)], engine_.Finish(s, /*cancelled=*/false));
    }
  }
}

bool Scheduler::StartJob(int32_t slot, const std::shared_ptr<Job>& job, Running& running) {
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->started = true;
    job->slot = slot;
    job->cv.notify_all();
  }
  running.job = job;
  running.pieces = 0;
  running.start = Job::Clock::now();
  GenerateResult result;
  if (job->cancel.load(std::memory_order_acquire)) {
    result.finish = FinishReason::kCancelled;
  } else {
    Running* r = &running;
    const bool started = engine_.Start(
        slot, job->params,
        [this, r, job = job.get()](std::string_view text) {
          ++r->pieces;
          metrics_.CountTokens(1);
          std::lock_guard<std::mutex> lock(job->mu);
          if (job->first_token == Job::Clock::time_point{}) job->first_token = Job::Clock::now();
          job->pending.append(text);
          job->cv.notify_all();
        },
        &result);
    if (started) return true;
  }
  Complete(slot, running, std::move(result));
  return false;
}

void Scheduler::Complete(int32_t slot, Running& running, GenerateResult result) {
  const std::shared_ptr<Job> job = std::move(running.job);
  running.job = nullptr;
  const auto end = Job::Clock::now();
  // A piece of text is usually one token; held-back or empty pieces make up the rest.
  if (result.completion_tokens > running.pieces) metrics_.CountTokens(result.completion_tokens - running.pieces);
  {
    std::lock_guard<std::mutex> lock(job->mu);
    using Seconds = std::chrono::duration<double>;
    const auto first = job->first_token == Job::Clock::time_point{} ? end : job->first_token;
    metrics_.CountGeneration(result.prompt_tokens, result.reused_tokens, result.completion_tokens,
                             Seconds(first - job->submitted).count(), Seconds(end - running.start).count());
    job->result = std::move(result);
    job->finished = true;
    job->cv.notify_all();
  }
  // The slot is free: the oldest waiting job, if any, takes a slot.
  std::lock_guard<std::mutex> lock(mu_);
  assigned_[static_cast<size_t>(slot)] = nullptr;
  AssignQueued();
  idle_cv_.notify_all();
}

}  // namespace ember::server
