// The one thing kernels need from a thread pool: run a range of independent tasks.
// lib/runtime/thread_pool implements it; kernels stay free of threading policy.
#ifndef EMBER_KERNELS_PARALLEL_H_
#define EMBER_KERNELS_PARALLEL_H_

#include <cstdint>

#include "absl/functional/function_ref.h"

namespace ember {

class Parallel {
 public:
  virtual ~Parallel() = default;
  virtual int n_threads() const = 0;
  // Splits [0, n) into contiguous chunks, calls fn(begin, end) for each chunk on the
  // pool's threads (the caller's thread included) and returns when all are done.
  // fn must not throw.
  virtual void For(int64_t n, absl::FunctionRef<void(int64_t begin, int64_t end)> fn) = 0;
};

// Runs everything on the calling thread.
Parallel& SerialParallel();

}  // namespace ember

#endif  // EMBER_KERNELS_PARALLEL_H_
