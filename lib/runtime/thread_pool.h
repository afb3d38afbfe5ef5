// A fixed set of worker threads that MatMul and the model run their parallel loops on.
// Workers are created once. For() cuts the range into a few chunks per thread, and every
// participant — the calling thread included — claims chunks from a shared counter until
// none are left. Claiming (rather than assigning one chunk per thread) matters on a busy
// host: if a worker is descheduled, the others take over its share instead of waiting for
// it, so a loaded machine degrades to single-thread speed, never below it.
// Idle workers spin briefly (a decode step issues its next For within microseconds) and
// then sleep on the OS's address wait (lib/base/platform.h: a futex on Linux, WaitOnAddress
// on Windows), so an idle pool costs no CPU.
#ifndef EMBER_RUNTIME_THREAD_POOL_H_
#define EMBER_RUNTIME_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/parallel.h"

namespace ember {

class ThreadPool final : public Parallel {
 public:
  // n_threads counts the caller: ThreadPool(2) starts one worker. Values < 1 mean 1.
  explicit ThreadPool(int n_threads);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const override { return n_threads_; }
  // Chunk i of k covers [n*i/k, n*(i+1)/k), k = min(n, kChunksPerThread * n_threads).
  // Calls from several threads are serialised; a call from inside a chunk runs inline.
  void For(int64_t n, absl::FunctionRef<void(int64_t begin, int64_t end)> fn) override;

  static constexpr int kChunksPerThread = 4;

 private:
  void WorkerLoop();
  // Claims and runs chunks of the current job until none is left.
  void RunChunks();

  const int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex call_mu_;

  // The current job, written by the caller before it publishes the job in claim_
  // (release) and read by a participant only after it claimed a chunk (acquire). The
  // caller does not return, so these stay valid, until every claimed chunk is done.
  absl::FunctionRef<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;

  // Packed claim state: job id (bits 40..63) | chunk count (20..39) | next chunk (0..19).
  // One word, so a participant can never claim a chunk of a job it did not see published.
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint32_t> done_{0};        // chunks of the current job finished
  std::atomic<uint32_t> generation_{0};  // bumped per job: what sleeping workers wait on
  std::atomic<bool> stop_{false};
};

}  // namespace ember

#endif  // EMBER_RUNTIME_THREAD_POOL_H_
