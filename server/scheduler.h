// Slots and the bounded queue: each request becomes a Job that waits (bounded) for a free
// slot and streams its text back to the HTTP thread that waits on it. One decode thread
// runs every slot (continuous batching): between steps it starts the jobs that got a slot
// (their prompts) and ends those that are done or cancelled; each step advances all running
// generations by one token with one batched forward pass (Engine::Step). The HTTP side may
// cancel a job at any time (client gone, timeout, shutdown); it leaves at the next step.
#ifndef EMBER_SERVER_SCHEDULER_H_
#define EMBER_SERVER_SCHEDULER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/engine.h"
#include "server/metrics.h"

namespace ember::server {

// One generation request and its output channel. Shared by the HTTP thread and the decode
// thread.
struct Job {
  using Clock = std::chrono::steady_clock;
  explicit Job(GenerateParams p) : params(std::move(p)) {}

  GenerateParams params;
  std::atomic<bool> cancel{false};

  // Guarded by mu; cv is notified on every change.
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;   // a slot picked it up
  bool finished = false;  // result is final
  std::string pending;    // text produced but not yet taken by the HTTP thread
  GenerateResult result;
  int32_t slot = -1;
  Clock::time_point submitted = Clock::now();
  Clock::time_point first_token{};
};

class Scheduler {
 public:
  Scheduler(Engine& engine, int32_t max_queue, Metrics& metrics);
  ~Scheduler();  // cancels everything and joins the decode thread

  enum class Admission { kAccepted, kQueueFull, kShuttingDown };
  Admission Submit(const std::shared_ptr<Job>& job);

  // Cancels a queued job (it finishes as kCancelled without running) or a running one.
  // Idempotent; call it again while the job runs to close the window in which a cancel
  // reaches the library between two calls.
  void Cancel(const std::shared_ptr<Job>& job);

  // Graceful shutdown: refuse new jobs, let running and queued ones finish until
  // `deadline`, then cancel what is left. Returns once no job is running.
  void Drain(Job::Clock::time_point deadline);

  int64_t queue_depth() const;
  int64_t busy_slots() const;
  int32_t n_slots() const { return static_cast<int32_t>(assigned_.size()); }

 private:
  // What the decode thread knows of a slot's running job.
  struct Running {
    std::shared_ptr<Job> job;  // null while the slot runs nothing
    int32_t pieces = 0;        // text pieces passed on (metrics)
    Job::Clock::time_point start{};
  };

  void DecodeLoop();
  // Hands free slots to queued jobs, oldest first. Under mu_.
  void AssignQueued();
  // Starts `job` on `slot`; false if it already ended (then it is completed).
  bool StartJob(int32_t slot, const std::shared_ptr<Job>& job, Running& running);
  // Publishes a job's final result and frees its slot.
  void Complete(int32_t slot, Running& running, GenerateResult result);

  Engine& engine_;
  Metrics& metrics_;
  const size_t max_queue_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // a slot got a job, or shutdown
  std::condition_variable idle_cv_;  // a job finished
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::shared_ptr<Job>> assigned_;  // per slot: the job it runs (or is about to)
  bool accepting_ = true;
  bool stopping_ = false;
  std::thread decoder_;
};

}  // namespace ember::server

#endif  // EMBER_SERVER_SCHEDULER_H_
