// Threads as a host uses them: one model shared by many sessions on many threads, models
// loaded and freed concurrently, cancellation from another thread. Run under TSan by
// scripts/test.sh (label "concurrency"); zero reports allowed.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ember/ember.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

std::string Stories() { return ember::testing::TestDataPath("models/stories260K.gguf"); }

struct Tokens {
  std::vector<int32_t> ids;
};

int32_t Record(void* user, int32_t token, const char*, size_t) {
  static_cast<Tokens*>(user)->ids.push_back(token);
  return 0;
}

std::vector<int32_t> Generate(ember_model* model, uint64_t seed, int n, int threads) {
  ember_sampler_options* so = nullptr;
  EXPECT_EQ(ember_sampler_options_create(&so), EMBER_OK);
  EXPECT_EQ(ember_sampler_options_set_temperature(so, 0.8f), EMBER_OK);
  EXPECT_EQ(ember_sampler_options_set_seed(so, seed), EMBER_OK);
  ember_session_options* o = nullptr;
  EXPECT_EQ(ember_session_options_create(&o), EMBER_OK);
  EXPECT_EQ(ember_session_options_set_sampler(o, so), EMBER_OK);
  EXPECT_EQ(ember_session_options_set_n_threads(o, threads), EMBER_OK);
  ember_session* s = nullptr;
  EXPECT_EQ(ember_session_create(model, o, &s), EMBER_OK);
  ember_session_options_free(o);
  ember_sampler_options_free(so);
  Tokens t;
  EXPECT_EQ(ember_session_generate(s, "Once upon a time", 16, 0, n, EMBER_GENERATE_IGNORE_EOS, Record, &t, nullptr),
            EMBER_OK);
  ember_session_free(s);
  return t.ids;
}

TEST(ConcurrencyTest, EightThreadsShareOneModel) {
  ember_model* model = nullptr;
  ASSERT_EQ(ember_model_load(Stories().c_str(), nullptr, &model), EMBER_OK);
  constexpr int kThreads = 8;
  std::vector<std::vector<int32_t>> expected(kThreads), got(kThreads);
  for (int i = 0; i < kThreads; ++i) expected[i] = Generate(model, 100 + i % 4, 24, 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    // Half the sessions use their own 2-thread pool, so pools run concurrently too.
    threads.emplace_back([&, i] { got[i] = Generate(model, 100 + i % 4, 24, 1 + i % 2); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(got[i], expected[i]) << "thread " << i;
  ember_model_free(model);
}

TEST(ConcurrencyTest, ConcurrentLoadAndFree) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 3; ++k) {
        ember_model* m = nullptr;
        if (ember_model_load(Stories().c_str(), nullptr, &m) == EMBER_OK) {
          ok++;
          ember_model_free(m);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 12);
}

TEST(ConcurrencyTest, CancelFromAnotherThreadWhileSessionsRun) {
  ember_model* model = nullptr;
  ASSERT_EQ(ember_model_load(Stories().c_str(), nullptr, &model), EMBER_OK);
  ember_session* s = nullptr;
  ASSERT_EQ(ember_session_create(model, nullptr, &s), EMBER_OK);
  std::atomic<bool> running{false};
  auto cb = [](void* user, int32_t, const char*, size_t) -> int32_t {
    static_cast<std::atomic<bool>*>(user)->store(true);
    return 0;
  };
  std::thread canceller([&] {
    while (!running.load()) std::this_thread::yield();
    for (int i = 0; i < 100; ++i) EXPECT_EQ(ember_session_cancel(s), EMBER_OK);  // repeated cancels are harmless
  });
  std::thread other([&] { Generate(model, 1, 16, 2); });  // unrelated session keeps working
  ember_status st = ember_session_generate(s, "Once", 4, 0, 100000, EMBER_GENERATE_IGNORE_EOS, cb, &running, nullptr);
  canceller.join();
  other.join();
  EXPECT_TRUE(st == EMBER_ERR_CANCELLED || st == EMBER_ERR_CONTEXT_FULL) << ember_status_name(st);
  ember_session_free(s);
  ember_model_free(model);
}

// Batched decode while another thread keeps cancelling one of the batch's sessions: each
// step's outcome for that session is OK or CANCELLED (then it is unchanged), the other
// session is never affected and matches its twin evaluated alone, and two batches of
// disjoint sessions run at the same time on their own first sessions' pools.
TEST(ConcurrencyTest, CancelOneSessionOfABatchFromAnotherThread) {
  ember_model* model = nullptr;
  ASSERT_EQ(ember_model_load(Stories().c_str(), nullptr, &model), EMBER_OK);
  ember_session_options* o = nullptr;
  ASSERT_EQ(ember_session_options_create(&o), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_n_threads(o, 2), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_n_ctx(o, 256), EMBER_OK);
  std::vector<ember_session*> s(5, nullptr);
  for (ember_session*& x : s) ASSERT_EQ(ember_session_create(model, o, &x), EMBER_OK);
  ember_session_options_free(o);
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done.load()) EXPECT_EQ(ember_session_cancel(s[1]), EMBER_OK);
  });
  std::thread other_batch([&] {  // sessions 3 and 4: a batch of their own
    ember_session* pair[] = {s[3], s[4]};
    for (int32_t i = 0; i < 40; ++i) {
      const int32_t ids[] = {i % 500 + 1, i % 300 + 2};
      const size_t counts[] = {1, 1};
      ember_status st[2];
      EXPECT_EQ(ember_session_eval_batch(pair, 2, ids, counts, st), EMBER_OK);
      EXPECT_EQ(st[0], EMBER_OK);
      EXPECT_EQ(st[1], EMBER_OK);
    }
  });
  ember_session* batch[] = {s[0], s[1]};
  int cancelled = 0;
  for (int32_t i = 0; i < 40; ++i) {
    const int32_t ids[] = {i % 400 + 3, i % 200 + 4, i % 100 + 5};
    const size_t counts[] = {1, 2};
    ember_status st[2];
    const int32_t before = ember_session_n_past(s[1]);
    ASSERT_EQ(ember_session_eval_batch(batch, 2, ids, counts, st), EMBER_OK);
    EXPECT_EQ(st[0], EMBER_OK);
    ASSERT_EQ(ember_session_eval(s[2], ids, 1, nullptr, 0), EMBER_OK);  // s[0]'s twin, alone
    const float *a = nullptr, *b = nullptr;
    size_t na = 0, nb = 0;
    ASSERT_EQ(ember_session_logits(s[0], &a, &na), EMBER_OK);
    ASSERT_EQ(ember_session_logits(s[2], &b, &nb), EMBER_OK);
    ASSERT_EQ(na, nb);
    EXPECT_EQ(std::memcmp(a, b, na * sizeof(float)), 0) << "step " << i;
    EXPECT_TRUE(st[1] == EMBER_OK || st[1] == EMBER_ERR_CANCELLED) << ember_status_name(st[1]);
    if (st[1] == EMBER_ERR_CANCELLED) {
      ++cancelled;
      EXPECT_EQ(ember_session_n_past(s[1]), before);
    } else {
      EXPECT_EQ(ember_session_n_past(s[1]), before + 2);
    }
  }
  done.store(true);
  canceller.join();
  other_batch.join();
  std::printf("[batch] session 1 cancelled in %d of 40 steps\n", cancelled);
  for (ember_session* x : s) ember_session_free(x);
  ember_model_free(model);
}

}  // namespace
