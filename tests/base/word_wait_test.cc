// WaitWhileEqual / WakeWaiters (lib/base/platform.h), the sleep under ThreadPool: two
// threads pass a turn counter back and forth, each going straight to sleep on the word
// (no spinning first), so every round trip needs a wake-up that arrives while the other
// side is between reading the word and sleeping. A lost wake-up (MinGW-w64 GCC 12's
// std::atomic::wait, GCC bug 106183) shows as a hang, which the watchdog turns into a
// failure with a message instead of a ctest timeout.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "lib/base/platform.h"

namespace ember {
namespace {

// Takes `turn` from `mine` to mine + 1 each time it holds `mine`, for every second value.
void PlayTurns(std::atomic<uint32_t>& turn, uint32_t first, uint32_t end, bool wake_all) {
  for (uint32_t mine = first; mine < end; mine += 2) {
    uint32_t v;
    while ((v = turn.load(std::memory_order_acquire)) != mine) WaitWhileEqual(turn, v);
    turn.store(mine + 1, std::memory_order_release);
    WakeWaiters(turn, wake_all);
  }
}

class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit)
      : thread_([this, limit] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "word_wait_test: no progress for %lld s: a wake-up was lost\n",
                         static_cast<long long>(limit.count()));
            std::_Exit(1);
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

TEST(WordWaitTest, PingPongNeverLosesAWakeup) {
  for (const bool wake_all : {false, true}) {
    Watchdog watchdog(std::chrono::seconds(120));
    constexpr uint32_t kTurns = 40000;
    std::atomic<uint32_t> turn{0};
    std::thread other([&] { PlayTurns(turn, 1, kTurns, wake_all); });
    PlayTurns(turn, 0, kTurns, wake_all);
    other.join();
    EXPECT_EQ(turn.load(), kTurns);
  }
}

TEST(WordWaitTest, ReturnsAtOnceWhenTheWordDiffers) {
  std::atomic<uint32_t> word{7};
  WaitWhileEqual(word, 6);  // would block for good if it compared wrongly
  WakeWaiters(word, true);  // nobody waits: a no-op
  EXPECT_EQ(word.load(), 7u);
}

}  // namespace
}  // namespace ember
