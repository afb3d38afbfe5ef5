// Every SIMD path of the attention kernels against its scalar twin, on random rows of
// every KV element type, with head sizes that exercise full chunks, masked/scalar tails and
// the wide-head slicing, and row counts around the kernels' unroll factors.
#include "kernels/attention_kernels.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "kernels/fp16.h"

namespace ember {
namespace {

const DType kTypes[] = {DType::kF32, DType::kF16, DType::kBF16};
const int kDims[] = {1, 7, 8, 15, 16, 17, 33, 64, 80, 100, 128, 136, 200, 256};
const int64_t kRowCounts[] = {1, 2, 3, 7, 8, 9, 17, 33};

// Every ISA this machine runs but scalar (whose table is the reference).
std::vector<Isa> SimdIsas() {
  std::vector<Isa> out = RunnableIsas();
  out.erase(out.begin());
  return out;
}

const AttentionKernelTable& TableFor(Isa isa) { return AttentionKernelsFor(isa); }

std::vector<float> RandomFloats(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// `n` rows of `dim` values, `stride` apart, stored as `type` (bytes).
std::vector<char> RandomRows(DType type, int64_t n, int64_t stride, std::mt19937& rng) {
  const std::vector<float> f = RandomFloats(n * stride, rng);
  std::vector<char> out(static_cast<size_t>(n * stride * (type == DType::kF32 ? 4 : 2)));
  KvRowKernelsFor(ScalarAttentionKernels(), type).store(f.data(), n * stride, out.data());
  return out;
}

TEST(AttentionKernelsTest, DotMatchesScalarTwin) {
  std::mt19937 rng(1);
  for (const Isa isa : SimdIsas()) {
    for (const DType type : kTypes) {
      for (const int dim : kDims) {
        for (const int64_t n : kRowCounts) {
          const int64_t stride = dim + 5;  // rows of one head inside wider KV rows
          const std::vector<char> rows = RandomRows(type, n, stride, rng);
          const std::vector<float> q = RandomFloats(dim, rng);
          std::vector<float> want(n), got(n, -1.0f);
          KvRowKernelsFor(ScalarAttentionKernels(), type).dot(q.data(), rows.data(), stride, n, dim, 0.5f, want.data());
          KvRowKernelsFor(TableFor(isa), type).dot(q.data(), rows.data(), stride, n, dim, 0.5f, got.data());
          for (int64_t j = 0; j < n; ++j) {
            // Both sum dim products of |x| <= 1 in float, in different orders.
            EXPECT_NEAR(got[j], want[j], 1e-6 * dim + 1e-6)
                << IsaName(isa) << " type " << static_cast<int>(type) << " dim " << dim << " n " << n << " row " << j;
          }
        }
      }
    }
  }
}

// The four-query kernels (where a table has them) equal four one-query calls bit for bit,
// so prefill and decode attend the same keys with the same arithmetic.
TEST(AttentionKernelsTest, FourQueryKernelsEqualFourSingleCalls) {
  std::mt19937 rng(4);
  int checked = 0;
  for (const Isa isa : SimdIsas()) {
    for (const DType type : kTypes) {
      const KvRowKernels& k = KvRowKernelsFor(TableFor(isa), type);
      if (k.dot4 == nullptr || k.accumulate4 == nullptr) continue;
      for (const int dim : kDims) {
        for (const int64_t n : kRowCounts) {
          const int64_t stride = dim + 5, q_stride = dim + 3, w_stride = n + 2, acc_stride = dim + 1;
          const std::vector<char> rows = RandomRows(type, n, stride, rng);
          const std::vector<float> q = RandomFloats(4 * q_stride, rng);
          std::vector<float> want(static_cast<size_t>(4 * w_stride), -7.0f), got = want;
          for (int i = 0; i < 4; ++i) {
            k.dot(q.data() + i * q_stride, rows.data(), stride, n, dim, 0.25f, want.data() + i * w_stride);
          }
          k.dot4(q.data(), q_stride, rows.data(), stride, n, dim, 0.25f, got.data(), w_stride);
          ASSERT_EQ(got, want) << IsaName(isa) << " dot4 type " << static_cast<int>(type) << " dim " << dim
                               << " n " << n;
          const std::vector<float> w = RandomFloats(4 * w_stride, rng);
          std::vector<float> acc_want = RandomFloats(4 * acc_stride, rng), acc_got = acc_want;
          for (int i = 0; i < 4; ++i) {
            k.accumulate(w.data() + i * w_stride, rows.data(), stride, n, dim, acc_want.data() + i * acc_stride);
          }
          k.accumulate4(w.data(), w_stride, rows.data(), stride, n, dim, acc_got.data(), acc_stride);
          ASSERT_EQ(acc_got, acc_want) << IsaName(isa) << " accumulate4 type " << static_cast<int>(type)
                                       << " dim " << dim << " n " << n;
          ++checked;
        }
      }
    }
  }
  if (IsaRunnable(Isa::kAvx512) || IsaRunnable(Isa::kNeon)) {
    EXPECT_GT(checked, 0) << "the AVX-512 and NEON tables have four-query kernels";
  }
}

TEST(AttentionKernelsTest, AccumulateMatchesScalarTwin) {
  std::mt19937 rng(2);
  for (const Isa isa : SimdIsas()) {
    for (const DType type : kTypes) {
      for (const int dim : kDims) {
        for (const int64_t n : kRowCounts) {
          const int64_t stride = dim + 3;
          const std::vector<char> rows = RandomRows(type, n, stride, rng);
          const std::vector<float> w = RandomFloats(n, rng);
          std::vector<float> want = RandomFloats(dim + 1, rng);  // one guard value past dim
          std::vector<float> got = want;
          KvRowKernelsFor(ScalarAttentionKernels(), type).accumulate(w.data(), rows.data(), stride, n, dim, want.data());
          KvRowKernelsFor(TableFor(isa), type).accumulate(w.data(), rows.data(), stride, n, dim, got.data());
          for (int i = 0; i < dim; ++i) {
            EXPECT_NEAR(got[i], want[i], 1e-6 * n + 1e-6)
                << IsaName(isa) << " type " << static_cast<int>(type) << " dim " << dim << " n " << n << " col " << i;
          }
          EXPECT_EQ(got[dim], want[dim]) << "wrote past dim " << dim;
        }
      }
    }
  }
}

TEST(AttentionKernelsTest, StoreRoundsExactlyAsFp16H) {
  std::mt19937 rng(3);
  std::vector<float> src = RandomFloats(1000, rng, 70000.0f);  // beyond half's range too
  const float specials[] = {0.0f, -0.0f, 1e-8f, -3e-6f, 6.1e-5f, 65504.0f, 65520.0f, 1e30f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), 1.00048828125f,
                            1.000732421875f, 3.0f / 7.0f};
  src.insert(src.begin(), std::begin(specials), std::end(specials));
  for (int i = 0; i < 200; ++i) src.push_back(RandomFloats(1, rng, 1e-4f)[0]);  // subnormal halves
  for (const Isa isa : RunnableIsas()) {
    const AttentionKernelTable& t = TableFor(isa);
    for (const int64_t n : {int64_t{1}, int64_t{15}, static_cast<int64_t>(src.size())}) {
      std::vector<uint16_t> h(n + 1, 0xABCD), b(n + 1, 0xABCD);
      std::vector<float> f(n + 1, 42.0f);
      t.f16.store(src.data(), n, h.data());
      t.bf16.store(src.data(), n, b.data());
      t.f32.store(src.data(), n, f.data());
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(h[i], FloatToFp16(src[i])) << IsaName(isa) << " f16 of " << src[i];
        ASSERT_EQ(b[i], FloatToBf16(src[i])) << IsaName(isa) << " bf16 of " << src[i];
        if (!std::isnan(src[i])) {
          ASSERT_EQ(f[i], src[i]);
        }
      }
      EXPECT_EQ(h[n], 0xABCD);
      EXPECT_EQ(b[n], 0xABCD);
      EXPECT_EQ(f[n], 42.0f);
    }
  }
}

TEST(AttentionKernelsTest, ExpSumIsAccurate) {
  std::mt19937 rng(4);
  for (const Isa isa : RunnableIsas()) {
    const AttentionKernelTable& t = TableFor(isa);
    for (const int64_t n : {int64_t{1}, int64_t{5}, int64_t{16}, int64_t{37}, int64_t{128}}) {
      std::vector<float> x = RandomFloats(n, rng, 30.0f);
      x[0] = -200.0f;  // underflows to 0
      const float max = 31.0f;
      std::vector<float> e = x;
      const float sum = t.exp_sum(e.data(), n, max);
      double want_sum = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        // Every path rounds x - max to float first; exp itself must then be within 4e-7.
        const double want = std::exp(static_cast<double>(x[j] - max));
        want_sum += want;
        EXPECT_NEAR(e[j], want, 4e-7 * want + 1e-38) << IsaName(isa) << " exp(" << x[j] - max << ")";
      }
      EXPECT_NEAR(sum, want_sum, 1e-6 * want_sum + 1e-38) << IsaName(isa) << " n " << n;
    }
  }
}

}  // namespace
}  // namespace ember
