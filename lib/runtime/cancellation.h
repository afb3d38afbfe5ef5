// Cancellation of a session's running call from another thread. The session's owner runs
// one call at a time (eval, generate) inside a CallScope; any thread may Request() a stop,
// which the running call notices at its next check (between layers, chunks or tokens).
// Scopes nest (a stepped generation is one call that spans the evaluations it makes): only
// the outermost one clears a stale request, and the call ends with it.
#ifndef EMBER_RUNTIME_CANCELLATION_H_
#define EMBER_RUNTIME_CANCELLATION_H_

#include <atomic>

namespace ember {

class Cancellation {
 public:
  // Thread-safe. Asks the call in progress to stop; ignored when no call is in progress,
  // so that a late cancel cannot stop the host's next, unrelated call.
  void Request() {
    if (depth_.load(std::memory_order_acquire) > 0) requested_.store(true, std::memory_order_release);
  }
  bool requested() const { return requested_.load(std::memory_order_acquire); }
  // The flag the forward pass polls (Session::Eval's `cancel`).
  const std::atomic<bool>* flag() const { return &requested_; }

  // Marks a call in progress for its lifetime. The outermost scope clears any stale request
  // first, so a cancel only affects the call it overlaps with. Scopes are opened and closed
  // by the session's owner thread only, in nested order.
  class CallScope {
   public:
    explicit CallScope(Cancellation& c) : c_(c) {
      if (c_.depth_.load(std::memory_order_relaxed) == 0) {
        c_.requested_.store(false, std::memory_order_relaxed);
      }
      c_.depth_.fetch_add(1, std::memory_order_release);
    }
    ~CallScope() { c_.depth_.fetch_sub(1, std::memory_order_release); }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    Cancellation& c_;
  };

 private:
  std::atomic<bool> requested_{false};
  std::atomic<int> depth_{0};  // open CallScopes
};

}  // namespace ember

#endif  // EMBER_RUNTIME_CANCELLATION_H_
