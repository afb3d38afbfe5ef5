// Cancellation of a session's running call from another thread. The session's owner runs
// one call at a time (eval, generate) inside a CallScope; any thread may Request() a stop,
// which the running call notices at its next check (between layers, chunks or tokens).
#ifndef EMBER_RUNTIME_CANCELLATION_H_
#define EMBER_RUNTIME_CANCELLATION_H_

#include <atomic>

namespace ember {

class Cancellation {
 public:
  // Thread-safe. Asks the call in progress to stop; ignored when no call is in progress,
  // so that a late cancel cannot stop the host's next, unrelated call.
  void Request() {
    if (busy_.load(std::memory_order_acquire)) requested_.store(true, std::memory_order_release);
  }
  bool requested() const { return requested_.load(std::memory_order_acquire); }
  // The flag the forward pass polls (Session::Eval's `cancel`).
  const std::atomic<bool>* flag() const { return &requested_; }

  // Marks a call in progress for its lifetime. It clears any stale request first, so a
  // cancel only affects the call it overlaps with.
  class CallScope {
   public:
    explicit CallScope(Cancellation& c) : c_(c) {
      c_.requested_.store(false, std::memory_order_relaxed);
      c_.busy_.store(true, std::memory_order_release);
    }
    ~CallScope() { c_.busy_.store(false, std::memory_order_release); }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    Cancellation& c_;
  };

 private:
  std::atomic<bool> requested_{false};
  std::atomic<bool> busy_{false};
};

}  // namespace ember

#endif  // EMBER_RUNTIME_CANCELLATION_H_
