#include "lib/runtime/thread_pool.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(ThreadPoolTest, CoversRangeWithContiguousChunks) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.n_threads(), threads);
    for (int64_t n : {1, 2, 3, 7, 100, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> chunks{0};
      pool.For(n, [&](int64_t b, int64_t e) {
        EXPECT_LT(b, e);
        chunks.fetch_add(1);
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n " << n << " i " << i;
      const int64_t expected_chunks =
          threads == 1 || n == 1 ? 1 : std::min<int64_t>(n, int64_t{ThreadPool::kChunksPerThread} * threads);
      EXPECT_EQ(chunks.load(), expected_chunks);
    }
  }
}

// Waits up to 10 s for `cond`; a hang would otherwise stall the whole suite.
template <typename Cond>
bool WaitFor(Cond cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(ThreadPoolTest, WorkersTakePart) {
  ThreadPool pool(3);
  std::mutex mu;
  std::set<std::thread::id> ids;
  std::atomic<bool> timed_out{false};
  pool.For(3, [&](int64_t, int64_t) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    }
    // Hold every chunk until a second thread has joined in: only workers can be that.
    if (!WaitFor([&] {
          std::lock_guard<std::mutex> lock(mu);
          return ids.size() >= 2;
        })) {
      timed_out = true;
    }
  });
  EXPECT_FALSE(timed_out.load());
  EXPECT_GE(ids.size(), 2u);
}

TEST(ThreadPoolTest, AStalledParticipantDoesNotStallTheRest) {
  // The first chunk to start blocks until every other chunk is done. With one chunk per
  // thread fixed in advance this would deadlock; with claiming, the others take the rest.
  ThreadPool pool(2);
  const int64_t n = 64;
  std::atomic<int64_t> done{0};
  std::atomic<bool> first_taken{false};
  std::atomic<bool> timed_out{false};
  pool.For(n, [&](int64_t b, int64_t e) {
    if (!first_taken.exchange(true)) {
      if (!WaitFor([&] { return done.load() == n - (e - b); })) timed_out = true;
    }
    done.fetch_add(e - b);
  });
  EXPECT_FALSE(timed_out.load());
  EXPECT_EQ(done.load(), n);
}

TEST(ThreadPoolTest, ManyRapidCalls) {
  ThreadPool pool(2);
  int64_t total = 0;
  std::vector<int64_t> partial(2);
  for (int call = 0; call < 5000; ++call) {
    pool.For(2, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) partial[i] = call + i;
    });
    total += partial[0] + partial[1];
  }
  // sum over calls of (call + call + 1)
  EXPECT_EQ(total, 5000LL * 4999 + 5000);
}

TEST(ThreadPoolTest, CallsAfterIdleSleepStillWork) {
  ThreadPool pool(2);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers go to sleep
    std::atomic<int64_t> sum{0};
    pool.For(1000, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
    });
    EXPECT_EQ(sum.load(), 999 * 1000 / 2);
  }
}

TEST(ThreadPoolTest, NestedCallRunsInline) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.For(2, [&](int64_t, int64_t) {
    pool.For(10, [&](int64_t b, int64_t e) { inner.fetch_add(static_cast<int>(e - b)); });
  });
  EXPECT_EQ(inner.load(), 20);
}

TEST(ThreadPoolTest, ConcurrentCallersAreSerialised) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  auto caller = [&] {
    for (int i = 0; i < 500; ++i) {
      pool.For(64, [&](int64_t b, int64_t e) { sum.fetch_add(e - b); });
    }
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT_EQ(sum.load(), 2 * 500 * 64);
}

TEST(ThreadPoolTest, CreateAndDestroyRepeatedly) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(3);
    if (i % 2 == 0) {
      std::atomic<int> n{0};
      pool.For(3, [&](int64_t b, int64_t e) { n.fetch_add(static_cast<int>(e - b)); });
      EXPECT_EQ(n.load(), 3);
    }
  }
}

TEST(ThreadPoolTest, ZeroAndNegativeSizes) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.n_threads(), 1);
  bool called = false;
  pool.For(0, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace ember
