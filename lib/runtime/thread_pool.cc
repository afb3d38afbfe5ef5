#include "lib/runtime/thread_pool.h"

namespace ember {
namespace {

// ~100 us of polling on current x86 cores before a worker (or the waiting caller) sleeps.
constexpr int kSpinIterations = 4000;

thread_local bool tl_inside_chunk = false;

inline void CpuRelax() { __builtin_ia32_pause(); }

// Waits until `a` differs from `old`: spin first, then futex-wait.
template <typename T>
T AwaitChange(const std::atomic<T>& a, T old) {
  for (int i = 0; i < kSpinIterations; ++i) {
    const T v = a.load(std::memory_order_acquire);
    if (v != old) return v;
    CpuRelax();
  }
  T v;
  while ((v = a.load(std::memory_order_acquire)) == old) a.wait(old, std::memory_order_acquire);
  return v;
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(call_mu_);
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
  }
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunChunk(int index) {
  if (index >= n_chunks_) return;
  const int64_t begin = n_ * index / n_chunks_;
  const int64_t end = n_ * (index + 1) / n_chunks_;
  tl_inside_chunk = true;
  (*fn_)(begin, end);
  tl_inside_chunk = false;
}

void ThreadPool::WorkerLoop(int index) {
  uint32_t seen = 0;
  while (true) {
    seen = AwaitChange(generation_, seen);
    if (stop_.load(std::memory_order_relaxed)) return;  // ordered by the acquire above
    RunChunk(index);
    // Every worker acknowledges every job, so the caller may reuse the job fields (and
    // start the next job) only after all workers are done reading them.
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

void ThreadPool::For(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1 || tl_inside_chunk) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> lock(call_mu_);
  fn_ = &fn;
  n_ = n;
  n_chunks_ = n < n_threads_ ? static_cast<int>(n) : n_threads_;
  pending_.store(static_cast<uint32_t>(n_threads_ - 1), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  RunChunk(0);
  uint32_t left = pending_.load(std::memory_order_acquire);
  while (left != 0) left = AwaitChange(pending_, left);
  fn_ = nullptr;
}

}  // namespace ember
