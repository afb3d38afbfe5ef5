#include "lib/runtime/thread_pool.h"

#include <atomic>
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
      EXPECT_EQ(chunks.load(), std::min<int64_t>(n, threads));
    }
  }
}

TEST(ThreadPoolTest, UsesWorkerThreadsAndTheCaller) {
  ThreadPool pool(3);
  std::mutex mu;
  std::set<std::thread::id> ids;
  pool.For(3, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u);
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
