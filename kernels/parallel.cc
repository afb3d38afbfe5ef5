#include "kernels/parallel.h"

namespace ember {
namespace {
class Serial final : public Parallel {
 public:
  int n_threads() const override { return 1; }
  void For(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn) override {
    if (n > 0) fn(0, n);
  }
};
}  // namespace

Parallel& SerialParallel() {
  static Serial serial;
  return serial;
}

}  // namespace ember
