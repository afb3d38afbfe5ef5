#include "lib/runtime/thread_pool.h"

#include <algorithm>

#include "lib/base/cpu_relax.h"
#include "lib/base/platform.h"

namespace ember {
namespace {

// ~100 us of polling on current x86 cores before a worker (or the waiting caller) sleeps.
constexpr int kSpinIterations = 4000;
constexpr uint64_t kFieldMask = (uint64_t{1} << 20) - 1;

thread_local bool tl_inside_chunk = false;

inline uint64_t ChunkCount(uint64_t claim) { return (claim >> 20) & kFieldMask; }
inline uint64_t NextChunk(uint64_t claim) { return claim & kFieldMask; }

// Waits until `a` differs from `old`: spin first, then sleep on the OS's address wait.
uint32_t AwaitChange(const std::atomic<uint32_t>& a, uint32_t old) {
  for (int i = 0; i < kSpinIterations; ++i) {
    const uint32_t v = a.load(std::memory_order_acquire);
    if (v != old) return v;
    CpuRelax();
  }
  uint32_t v;
  while ((v = a.load(std::memory_order_acquire)) == old) WaitWhileEqual(a, old);
  return v;
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(call_mu_);
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    WakeWaiters(generation_, /*all=*/true);
  }
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunChunks() {
  uint64_t claim = claim_.load(std::memory_order_acquire);
  while (NextChunk(claim) < ChunkCount(claim)) {
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      continue;  // `claim` was reloaded: another participant took that chunk
    }
    const int64_t k = static_cast<int64_t>(ChunkCount(claim));
    const int64_t i = static_cast<int64_t>(NextChunk(claim));
    tl_inside_chunk = true;
    (*fn_)(n_ * i / k, n_ * (i + 1) / k);
    tl_inside_chunk = false;
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == k) WakeWaiters(done_, /*all=*/false);
    claim = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::WorkerLoop() {
  uint32_t seen = 0;
  while (true) {
    seen = AwaitChange(generation_, seen);
    if (stop_.load(std::memory_order_relaxed)) return;  // ordered by the acquire above
    RunChunks();
  }
}

void ThreadPool::For(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1 || tl_inside_chunk) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> lock(call_mu_);
  const uint64_t chunks = static_cast<uint64_t>(std::min<int64_t>(n, int64_t{kChunksPerThread} * n_threads_));
  fn_ = &fn;
  n_ = n;
  done_.store(0, std::memory_order_relaxed);
  const uint64_t job = (claim_.load(std::memory_order_relaxed) >> 40) + 1;
  claim_.store((job << 40) | (chunks << 20), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  WakeWaiters(generation_, /*all=*/true);
  RunChunks();
  // Wait for chunks other participants claimed and are still running.
  uint32_t finished = done_.load(std::memory_order_acquire);
  while (finished != chunks) finished = AwaitChange(done_, finished);
  fn_ = nullptr;
}

}  // namespace ember
