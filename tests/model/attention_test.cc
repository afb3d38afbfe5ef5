// CausalAttention against a plain double-precision softmax(q.K/sqrt(d)).V on random data:
// GQA, sliding windows over a wrapped ring, spans longer than one softmax block, every KV
// element type and every ISA, serial and on a thread pool (which must not change a bit).
#include "lib/model/attention.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/attention_kernels.h"
#include "kernels/dispatch.h"
#include "lib/runtime/thread_pool.h"

namespace ember {
namespace {

struct Fixture {
  AttentionShape shape;
  int64_t capacity;  // ring slots
  int64_t pos;       // first query position
  int64_t n_tokens;
};

// A cache holding positions [0, pos + n_tokens) (the ring keeps what the window needs),
// filled from f32 values that are also returned (already rounded to `type`) as
// values[position][kv_dim] for the reference.
struct TestCache {
  KvRows rows;
  std::vector<std::vector<char>> k_store, v_store;
  std::vector<std::vector<float>> k_val, v_val;  // per position
};

TestCache MakeCache(const Fixture& f, DType type, std::mt19937& rng) {
  TestCache c;
  const int64_t kv_dim = int64_t{f.shape.n_head_kv} * f.shape.head_dim;
  c.rows.capacity = f.capacity;
  c.rows.kv_dim = kv_dim;
  c.rows.type = type;
  const size_t bytes = static_cast<size_t>(f.capacity * kv_dim * c.rows.elem_bytes());
  c.k_store.assign(1, std::vector<char>(bytes));
  c.v_store.assign(1, std::vector<char>(bytes));
  c.rows.k = {c.k_store[0].data()};
  c.rows.v = {c.v_store[0].data()};
  const KvRowKernels& store = KvRowKernelsFor(ScalarAttentionKernels(), type);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t p = 0; p < f.pos + f.n_tokens; ++p) {
    for (auto* vals : {&c.k_val, &c.v_val}) {
      std::vector<float> row(static_cast<size_t>(kv_dim));
      for (float& x : row) x = 2.0f * dist(rng);
      void* dst = vals == &c.k_val ? c.rows.K(0, p) : c.rows.V(0, p);
      store.store(row.data(), kv_dim, dst);
      // The values attention will actually see.
      if (type == DType::kF16 || type == DType::kBF16) {
        // Read back: the scalar accumulate with weight 1 into a zeroed row.
        std::vector<float> one(static_cast<size_t>(kv_dim), 0.0f);
        const float w = 1.0f;
        store.accumulate(&w, dst, kv_dim, 1, static_cast<int>(kv_dim), one.data());
        row = one;
      }
      vals->push_back(row);
    }
  }
  return c;
}

std::vector<double> Reference(const Fixture& f, const std::vector<float>& q, const TestCache& c) {
  const AttentionShape& s = f.shape;
  const int64_t q_dim = int64_t{s.n_head} * s.head_dim;
  std::vector<double> out(static_cast<size_t>(f.n_tokens * q_dim));
  for (int64_t t = 0; t < f.n_tokens; ++t) {
    const int64_t p = f.pos + t;
    const int64_t first = s.window > 0 ? std::max<int64_t>(0, p - s.window + 1) : 0;
    for (int h = 0; h < s.n_head; ++h) {
      const int64_t kv_off = int64_t{h / (s.n_head / s.n_head_kv)} * s.head_dim;
      const float* qh = q.data() + t * q_dim + int64_t{h} * s.head_dim;
      std::vector<double> sc;
      for (int64_t j = first; j <= p; ++j) {
        double d = 0.0;
        for (int i = 0; i < s.head_dim; ++i) d += double{qh[i]} * c.k_val[j][kv_off + i];
        sc.push_back(d / std::sqrt(static_cast<double>(s.head_dim)));
      }
      const double mx = *std::max_element(sc.begin(), sc.end());
      double sum = 0.0;
      for (double& x : sc) sum += (x = std::exp(x - mx));
      for (int i = 0; i < s.head_dim; ++i) {
        double o = 0.0;
        for (int64_t j = first; j <= p; ++j) o += sc[j - first] * c.v_val[j][kv_off + i];
        out[t * q_dim + int64_t{h} * s.head_dim + i] = o / sum;
      }
    }
  }
  return out;
}

TEST(AttentionTest, MatchesDoublePrecisionSoftmax) {
  const Fixture fixtures[] = {
      {{2, 2, 16, 0}, 64, 0, 64},     // prefill from empty
      {{4, 2, 8, 0}, 400, 300, 1},    // decode over more than two softmax blocks, GQA
      {{3, 1, 80, 0}, 300, 5, 260},   // long prefill after a prefix, MQA, Phi-2 head size
      {{4, 2, 8, 16}, 24, 70, 8},     // sliding window of 16 over a wrapped ring of 24
      {{2, 2, 20, 150}, 170, 400, 20},  // window spanning two blocks, ring wraps inside it
  };
  const Isa saved = ActiveIsa();
  ThreadPool pool(2);
  std::mt19937 rng(7);
  for (const Fixture& f : fixtures) {
    for (const DType type : {DType::kF32, DType::kF16, DType::kBF16}) {
      const TestCache c = MakeCache(f, type, rng);
      const int64_t q_dim = int64_t{f.shape.n_head} * f.shape.head_dim;
      std::normal_distribution<float> dist(0.0f, 1.0f);
      std::vector<float> q(static_cast<size_t>(f.n_tokens * q_dim));
      for (float& x : q) x = dist(rng);
      const std::vector<double> want = Reference(f, q, c);
      for (const Isa isa : RunnableIsas()) {
        ASSERT_TRUE(SetActiveIsa(isa).ok());
        std::vector<float> serial(q.size()), threaded(q.size(), -1.0f);
        CausalAttention(q.data(), f.n_tokens, f.pos, c.rows, 0, f.shape, serial.data(), SerialParallel());
        CausalAttention(q.data(), f.n_tokens, f.pos, c.rows, 0, f.shape, threaded.data(), pool);
        double max_diff = 0.0;
        for (size_t i = 0; i < q.size(); ++i) {
          max_diff = std::max(max_diff, std::fabs(serial[i] - want[i]));
          ASSERT_EQ(serial[i], threaded[i]) << "threads changed element " << i;
        }
        // Outputs are convex combinations of values ~N(0, 4): float rounding only.
        EXPECT_LT(max_diff, 2e-5) << IsaName(isa) << " type " << static_cast<int>(type)
                                  << " head_dim " << f.shape.head_dim << " pos " << f.pos;
      }
    }
  }
  ASSERT_TRUE(SetActiveIsa(saved).ok());
}

}  // namespace
}  // namespace ember
