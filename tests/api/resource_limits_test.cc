// Resource limits through the C API: the KV memory cap (max_kv_bytes), the context cap
// (n_ctx), and an allocation that really fails, which must come back as
// EMBER_ERR_OUT_OF_MEMORY with the session still usable.
#include <sys/resource.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

// Under ASan, a failed allocation must return NULL (as malloc does) instead of ending the
// process, or the out-of-memory path below could not be tested. Only this binary.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace {

using ::testing::HasSubstr;

class ResourceLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = ember::testing::TestDataPath("models/stories260K.gguf");
    ASSERT_EQ(ember_model_load(path.c_str(), nullptr, &model_), EMBER_OK) << ember_last_error();
  }
  static void TearDownTestSuite() {
    ember_model_free(model_);
    model_ = nullptr;
  }

  static ember_status Create(int32_t n_ctx, uint64_t max_kv_bytes, ember_session** out) {
    ember_session_options* o = nullptr;
    EXPECT_EQ(ember_session_options_create(&o), EMBER_OK);
    if (n_ctx > 0) {
      EXPECT_EQ(ember_session_options_set_n_ctx(o, n_ctx), EMBER_OK);
    }
    EXPECT_EQ(ember_session_options_set_n_threads(o, 1), EMBER_OK);
    EXPECT_EQ(ember_session_options_set_max_kv_bytes(o, max_kv_bytes), EMBER_OK);
    const ember_status st = ember_session_create(model_, o, out);
    ember_session_options_free(o);
    return st;
  }

  // KV bytes per context position, measured: fill a 256-token session and divide.
  static uint64_t KvBytesPerPosition() {
    ember_session* s = nullptr;
    EXPECT_EQ(Create(256, 0, &s), EMBER_OK);
    std::vector<int32_t> ids(256, 400);
    EXPECT_EQ(ember_session_eval(s, ids.data(), ids.size(), nullptr, 0), EMBER_OK);
    const uint64_t bytes = ember_session_kv_bytes(s);
    ember_session_free(s);
    EXPECT_EQ(bytes % 256, 0u);
    return bytes / 256;
  }

  static ember_model* model_;
};

ember_model* ResourceLimitsTest::model_ = nullptr;

TEST_F(ResourceLimitsTest, MaxKvBytesRefusesASessionWhoseCacheWouldNotFit) {
  const uint64_t per_position = KvBytesPerPosition();
  // stories260K: 5 layers x (K + V) x 4 KV heads x 8 dims x the element size.
  ASSERT_GT(per_position, 0u);
  ASSERT_EQ(per_position % (5u * 2 * 4 * 8), 0u);
  const uint64_t full = per_position * 128;

  ember_session* s = reinterpret_cast<ember_session*>(0x1);
  EXPECT_EQ(Create(128, full - 1, &s), EMBER_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(s, nullptr);
  const std::string message = ember_last_error();
  EXPECT_THAT(message, HasSubstr("max_kv_bytes " + std::to_string(full - 1)));
  EXPECT_THAT(message, HasSubstr(std::to_string(full)));  // what it would have needed
  // The default context (the model's 512) does not fit either.
  EXPECT_EQ(Create(0, full, &s), EMBER_ERR_OUT_OF_MEMORY);
  EXPECT_THAT(std::string(ember_last_error()), HasSubstr("512 positions"));

  // Exactly enough is enough, and filling the context never goes past the cap.
  ASSERT_EQ(Create(128, full, &s), EMBER_OK) << ember_last_error();
  std::vector<int32_t> ids(128, 400);
  ASSERT_EQ(ember_session_eval(s, ids.data(), ids.size(), nullptr, 0), EMBER_OK);
  EXPECT_LE(ember_session_kv_bytes(s), full);
  const int32_t one = 400;
  EXPECT_EQ(ember_session_eval(s, &one, 1, nullptr, 0), EMBER_ERR_CONTEXT_FULL);
  EXPECT_LE(ember_session_kv_bytes(s), full);
  ember_session_free(s);

  // 0 means no limit.
  ASSERT_EQ(Create(0, 0, &s), EMBER_OK);
  ember_session_free(s);
}

TEST_F(ResourceLimitsTest, NCtxCapsTheContext) {
  ember_session* s = nullptr;
  ASSERT_EQ(Create(0, 0, &s), EMBER_OK);
  EXPECT_EQ(ember_session_n_ctx(s), 512);  // min(n_ctx_train, 4096)
  ember_session_free(s);

  ASSERT_EQ(Create(16, 0, &s), EMBER_OK);
  EXPECT_EQ(ember_session_n_ctx(s), 16);
  std::vector<int32_t> ids(16, 400);
  ASSERT_EQ(ember_session_eval(s, ids.data(), 10, nullptr, 0), EMBER_OK);
  EXPECT_EQ(ember_session_eval(s, ids.data(), 7, nullptr, 0), EMBER_ERR_CONTEXT_FULL);
  EXPECT_THAT(std::string(ember_last_error()), HasSubstr("n_ctx 16"));
  EXPECT_EQ(ember_session_n_past(s), 10);
  EXPECT_EQ(ember_session_eval(s, ids.data(), 6, nullptr, 0), EMBER_OK);
  EXPECT_EQ(ember_session_n_past(s), 16);
  int32_t generated = -1;
  EXPECT_EQ(ember_session_generate(s, "", 0, 0, 5, EMBER_GENERATE_IGNORE_EOS, nullptr, nullptr, &generated),
            EMBER_ERR_CONTEXT_FULL);
  EXPECT_EQ(generated, 0);
  EXPECT_EQ(ember_session_n_past(s), 16);
  ember_session_free(s);

  // A context larger than the training context is the host's choice, and costs nothing
  // until it is used: the KV cache grows with the tokens, not with n_ctx.
  ASSERT_EQ(Create(1 << 24, 0, &s), EMBER_OK) << ember_last_error();
  EXPECT_EQ(ember_session_n_ctx(s), 1 << 24);
  EXPECT_EQ(ember_session_kv_bytes(s), 0u);
  ASSERT_EQ(ember_session_eval(s, ids.data(), 4, nullptr, 0), EMBER_OK);
  EXPECT_LE(ember_session_kv_bytes(s), 1024 * KvBytesPerPosition());
  ember_session_free(s);

  // With context shifting, generation goes on past n_ctx and n_past never exceeds it.
  ember_session_options* o = nullptr;
  ASSERT_EQ(ember_session_options_create(&o), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_n_ctx(o, 16), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_n_threads(o, 1), EMBER_OK);
  ASSERT_EQ(ember_session_options_set_context_shift(o, 1, 1), EMBER_OK);
  ASSERT_EQ(ember_session_create(model_, o, &s), EMBER_OK);
  ember_session_options_free(o);
  EXPECT_EQ(ember_session_generate(s, "Once upon a time", 16, 0, 40, EMBER_GENERATE_IGNORE_EOS, nullptr, nullptr,
                                   &generated),
            EMBER_OK)
      << ember_last_error();
  EXPECT_EQ(generated, 40);
  EXPECT_LE(ember_session_n_past(s), 16);
  ember_session_free(s);
}

// Caps the process's address space a little above what it uses now, so that any large
// allocation fails for real; restores the old limit when it goes out of scope.
class AddressSpaceCap {
 public:
  explicit AddressSpaceCap(uint64_t headroom_bytes) {
    getrlimit(RLIMIT_AS, &old_);
    std::ifstream status("/proc/self/status");
    std::string key;
    uint64_t vm_kb = 0;
    while (status >> key) {
      if (key == "VmSize:") {
        status >> vm_kb;
        break;
      }
    }
    rlimit cap = old_;
    cap.rlim_cur = vm_kb * 1024 + headroom_bytes;
    ok_ = vm_kb > 0 && setrlimit(RLIMIT_AS, &cap) == 0;
  }
  ~AddressSpaceCap() { setrlimit(RLIMIT_AS, &old_); }
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  bool ok_ = false;
};

TEST_F(ResourceLimitsTest, AFailedAllocationIsOutOfMemoryAndTheSessionLivesOn) {
  // An absurd but legal context, then a prompt that needs a KV cache of gigabytes for it
  // (8 Mi positions x 5 layers x K,V x 32 dims, >= 512 MiB per layer even in 16 bits),
  // with only ~384 MiB of address space left to get it.
  ember_session* s = nullptr;
  ASSERT_EQ(Create(1 << 24, 0, &s), EMBER_OK);
  const std::vector<int32_t> start = {1, 403, 261};
  ASSERT_EQ(ember_session_eval(s, start.data(), start.size(), nullptr, 0), EMBER_OK);
  const float* logits = nullptr;
  size_t n_vocab = 0;
  ASSERT_EQ(ember_session_logits(s, &logits, &n_vocab), EMBER_OK);
  const std::vector<float> before(logits, logits + n_vocab);
  const std::vector<int32_t> huge(size_t{8} << 20, 400);
  {
    AddressSpaceCap cap(uint64_t{384} << 20);
    ASSERT_TRUE(cap.ok());
    EXPECT_EQ(ember_session_eval(s, huge.data(), huge.size(), nullptr, 0), EMBER_ERR_OUT_OF_MEMORY);
    EXPECT_THAT(std::string(ember_last_error()), HasSubstr("KV cache"));
    // Still under the cap: the session is as before and keeps working.
    EXPECT_EQ(ember_session_n_past(s), 3);
    ASSERT_EQ(ember_session_logits(s, &logits, &n_vocab), EMBER_OK);
    EXPECT_EQ(std::vector<float>(logits, logits + n_vocab), before);
    const int32_t next = 263;
    EXPECT_EQ(ember_session_eval(s, &next, 1, nullptr, 0), EMBER_OK) << ember_last_error();
    int32_t sampled = -1;
    EXPECT_EQ(ember_session_sample(s, &sampled), EMBER_OK);
    EXPECT_EQ(ember_session_n_past(s), 4);
  }
  ember_session_free(s);
}

}  // namespace
