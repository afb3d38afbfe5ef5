// A fixed set of worker threads that MatMul and the model run their parallel loops on.
// Workers are created once; For() hands each of them one contiguous chunk, runs the first
// chunk on the calling thread and returns when all chunks are done. Idle workers spin
// briefly (a decode step issues its next For within microseconds) and then sleep on a futex
// (std::atomic::wait), so an idle pool costs no CPU.
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
  // Chunk i of min(n, n_threads) covers [n*i/k, n*(i+1)/k). Calls from several threads are
  // serialised; a call from inside a chunk runs inline on that thread.
  void For(int64_t n, absl::FunctionRef<void(int64_t begin, int64_t end)> fn) override;

 private:
  void WorkerLoop(int index);
  void RunChunk(int index);

  const int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex call_mu_;

  // The current job. Written by the calling thread before it publishes a new generation
  // (release) and read by workers after they observe it (acquire).
  absl::FunctionRef<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int n_chunks_ = 0;

  std::atomic<uint32_t> generation_{0};
  std::atomic<uint32_t> pending_{0};  // workers that have not finished the current job
  std::atomic<bool> stop_{false};
};

}  // namespace ember

#endif  // EMBER_RUNTIME_THREAD_POOL_H_
