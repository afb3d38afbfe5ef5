// The SIMD twins of GeluNew and of the Q8 activation quantizer against their scalar twins
// (and GeluNew against a double-precision reference), on every ISA this CPU has, through the
// ActiveIsa() dispatch: random data, sizes with every tail length, extreme and special
// values. The quantizer must be bit-identical on every ISA.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "kernels/q8_activation_buffer.h"
#include "kernels/q8_quantize_kernels.h"

namespace ember {
namespace {

constexpr float kEps = std::numeric_limits<float>::epsilon();

// Every ISA this machine runs but scalar (whose twins are the reference).
std::vector<Isa> SimdIsas() {
  std::vector<Isa> out = RunnableIsas();
  out.erase(out.begin());
  return out;
}

// Runs GeluNew / Quantize on `isa` and restores the previous ISA.
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa) : saved_(ActiveIsa()) { EXPECT_TRUE(SetActiveIsa(isa).ok()); }
  ~ScopedIsa() { EXPECT_TRUE(SetActiveIsa(saved_).ok()); }

 private:
  Isa saved_;
};

// gelu_new in double, as x * sigmoid(-w) = x / (1 + exp(w)), w = -2u (the same function as
// 0.5 x (1 + tanh(u))). Also returns w: how much float rounding of the argument matters.
double GeluReference(double x, double* w) {
  *w = -2.0 * 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return x / (1.0 + std::exp(*w));
}

// Inputs for GeluNew: typical activations, the whole transition region, saturation, and
// special magnitudes, shuffled so that every kind lands in full vectors and tails.
std::vector<float> GeluInputs(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::uniform_real_distribution<float> wide(-12.0f, 12.0f);
  std::uniform_real_distribution<float> log_mag(-40.0f, 4.0f);
  const float special[] = {0.0f,  -0.0f, 1e-40f, -1e-40f, 1e-30f, -1e-20f, 1e4f,  -1e4f,
                           1e3f,  -1e3f, 100.0f, -100.0f, 10.0f,  -10.0f,  -9.0f, -5.0f,
                           5.0f,  1.0f,  -1.0f,  -9.7f,   -3.0f,  3.0f,    0.5f,  -0.5f};
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) {
    switch (rng() % 4) {
      case 0: v = normal(rng); break;
      case 1: v = wide(rng); break;
      case 2: v = (rng() % 2 ? 1.0f : -1.0f) * std::pow(10.0f, log_mag(rng)); break;
      default: v = special[rng() % (sizeof(special) / sizeof(special[0]))]; break;
    }
  }
  return x;
}

TEST(GeluNewSimdTest, MatchesScalarAndReferenceOnEveryIsa) {
  std::mt19937 rng(7);
  const int64_t sizes[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1001, 20011};
  for (Isa isa : SimdIsas()) {
    // Largest errors seen, in float epsilons: vs the reference relative to (1 + |w|) |gelu|
    // and to max(|gelu|, 1e-6) (also for the scalar twin), vs the scalar twin relative to |x|.
    double vs_ref_cond = 0, vs_ref = 0, scalar_vs_ref = 0, vs_scalar = 0;
    for (int64_t n : sizes) {
      const std::vector<float> x = GeluInputs(n, rng);
      std::vector<float> scalar = x;
      GeluNewScalar(scalar.data(), n);
      std::vector<float> simd = x;
      simd.resize(x.size() + 16, 123.0f);  // sentinels: a tail must not write past n
      {
        ScopedIsa scoped(isa);
        GeluNew(simd.data(), n);
      }
      // GeluNew must have run the twin of `isa` (which differs from the scalar twin's bits).
      std::vector<float> twin = x;
      GeluNewFor(isa)(twin.data(), n);
      ASSERT_TRUE(n == 0 || std::memcmp(twin.data(), simd.data(), x.size() * sizeof(float)) == 0) << IsaName(isa);
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i], y = simd[i];
        ASSERT_TRUE(std::isfinite(y)) << IsaName(isa) << " x=" << v;
        double w;
        const double ref = GeluReference(v, &w);
        // A few ulps of the result, plus the argument's conditioning: w carries ~2 float
        // roundings, and a relative change of w moves the result by up to |w| times it
        // (negative tail, where gelu ~ x exp(-|w|)). Below 1e-33 nothing is checked.
        EXPECT_LE(std::fabs(y - ref), kEps * (4.0 + 2.0 * std::fabs(w)) * std::fabs(ref) + 1e-33)
            << IsaName(isa) << " x=" << v << " got " << y << " want " << ref;
        // The scalar twin rounds 1 + tanh(u) to float, an absolute error of up to
        // 0.5 |x| eps in the result (and is exact where tanh rounds to -1: it gives 0).
        EXPECT_LE(std::fabs(y - scalar[i]), 2.0 * kEps * std::fabs(v))
            << IsaName(isa) << " x=" << v << " got " << y << " scalar " << scalar[i];
        const double floor_ref = kEps * std::fmax(std::fabs(ref), 1e-6);
        if (std::fabs(ref) > 1e-33) {
          vs_ref_cond = std::fmax(vs_ref_cond, std::fabs(y - ref) / (kEps * (1.0 + std::fabs(w)) * std::fabs(ref)));
        }
        vs_ref = std::fmax(vs_ref, std::fabs(y - ref) / floor_ref);
        scalar_vs_ref = std::fmax(scalar_vs_ref, std::fabs(scalar[i] - ref) / floor_ref);
        vs_scalar = std::fmax(vs_scalar, std::fabs(y - scalar[i]) / (kEps * std::fabs(v)));
      }
      for (size_t i = x.size(); i < simd.size(); ++i) ASSERT_EQ(simd[i], 123.0f) << IsaName(isa);
    }
    std::printf("%s GeluNew max error, in float eps: vs double %.2f (1 + |w|) |gelu|, %.2f max(|gelu|, 1e-6) "
                "(scalar twin: %.3g); vs scalar %.2f |x|\n",
                std::string(IsaName(isa)).c_str(), vs_ref_cond, vs_ref, scalar_vs_ref, vs_scalar);
  }
}

// Rows of blocks of many kinds: random at scales from denormal to huge, all zero, exact
// halfway products (amax 127: q = round-half-even(x)), a single nonzero value, infinities
// and NaNs (which the scalar twin skips in amax and stores as 0).
std::vector<float> QuantizeInputs(int64_t n_blocks, std::mt19937& rng) {
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::uniform_real_distribution<float> log_scale(-42.0f, 37.0f);
  std::vector<float> x(static_cast<size_t>(32 * n_blocks));
  for (int64_t b = 0; b < n_blocks; ++b) {
    float* v = x.data() + 32 * b;
    const float scale = std::pow(10.0f, log_scale(rng));
    switch (rng() % 8) {
      case 0: break;  // all zero
      case 1:
        v[0] = 127.0f;
        for (int i = 1; i < 32; ++i) v[i] = static_cast<float>(static_cast<int>(rng() % 255) - 127) + 0.5f;
        v[rng() % 31 + 1] = -127.0f;
        break;
      case 2: v[rng() % 32] = (rng() % 2 ? 1.0f : -1.0f) * scale; break;
      case 3:
        for (int i = 0; i < 32; ++i) v[i] = uni(rng) * scale;
        v[rng() % 32] = rng() % 2 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
        break;
      case 4:
        for (int i = 0; i < 32; ++i) v[i] = uni(rng) * scale;
        v[rng() % 32] = std::numeric_limits<float>::quiet_NaN();
        break;
      case 5:
        for (int i = 0; i < 32; ++i) v[i] = uni(rng) * 1e-38f;  // denormal amax: 127/amax overflows
        break;
      default:
        for (int i = 0; i < 32; ++i) v[i] = uni(rng) * scale;
        break;
    }
  }
  return x;
}

// Bitwise equality of two arrays (NaN == NaN when the bits agree, and -0 != +0).
template <typename T>
void ExpectSameBits(const T* a, const T* b, int64_t n, const char* what, Isa isa) {
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(std::memcmp(a + i, b + i, sizeof(T)), 0)
        << IsaName(isa) << " " << what << "[" << i << "]: " << +a[i] << " vs " << +b[i];
  }
}

TEST(Q8QuantizeSimdTest, BitIdenticalToScalarOnEveryIsa) {
  std::mt19937 rng(11);
  const int64_t shapes[][2] = {{1, 32}, {3, 64}, {2, 96}, {5, 256}, {4, 2560}, {1, 10240}};
  for (Isa isa : SimdIsas()) {
    for (const auto& shape : shapes) {
      const int64_t n_tokens = shape[0], cols = shape[1], nb = cols / 32;
      for (int weight_offset : {0, 8, 128}) {
        const std::vector<float> x = QuantizeInputs(n_tokens * nb, rng);
        Q8ActivationBuffer scalar_buf, simd_buf;
        {
          ScopedIsa scoped(Isa::kScalar);
          scalar_buf.Quantize(x.data(), n_tokens, cols, weight_offset, SerialParallel());
        }
        {
          ScopedIsa scoped(isa);
          simd_buf.Quantize(x.data(), n_tokens, cols, weight_offset, SerialParallel());
        }
        const Q8ActivationsView& a = scalar_buf.view();
        const Q8ActivationsView& b = simd_buf.view();
        ASSERT_EQ(b.n_tokens, n_tokens);
        ASSERT_EQ(b.n_blocks, nb);
        ASSERT_EQ(b.weight_offset, weight_offset);
        const int64_t blocks = n_tokens * nb;
        ExpectSameBits(a.q, b.q, n_tokens * cols, "q", isa);
        ExpectSameBits(a.d, b.d, blocks, "d", isa);
        ExpectSameBits(a.dsum, b.dsum, blocks, "dsum", isa);
        ExpectSameBits(a.sum16, b.sum16, 2 * blocks, "sum16", isa);
        ExpectSameBits(a.d8, b.d8, 8 * blocks, "d8", isa);
        ExpectSameBits(a.bias8, b.bias8, 8 * blocks, "bias8", isa);
        ExpectSameBits(a.bias1, b.bias1, blocks, "bias1", isa);
      }
    }
  }
}

// Every row twin on its own, on a tiny-scale sweep: the fp16 rounding of amax / 127 through
// the subnormal range, its overflow to infinity, and products that land exactly halfway.
TEST(Q8QuantizeSimdTest, RowTwinsAgreeAcrossScaleRanges) {
  constexpr int64_t kBlocks = 400;
  std::vector<float> x(32 * kBlocks);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (int64_t b = 0; b < kBlocks; ++b) {
    // amax from 2^-30 up to past the fp16 maximum (65504 * 127).
    const float amax = std::ldexp(1.0f + static_cast<float>(b % 7) / 8.0f, static_cast<int>(b / 7) - 30);
    for (int i = 0; i < 32; ++i) x[32 * b + i] = uni(rng) * amax;
    x[32 * b + rng() % 32] = (b % 2 ? amax : -amax);
  }
  struct Out {
    std::vector<int8_t> q = std::vector<int8_t>(32 * kBlocks);
    std::vector<float> d = std::vector<float>(kBlocks), dsum = std::vector<float>(kBlocks);
    std::vector<float> d8 = std::vector<float>(8 * kBlocks);
    std::vector<int32_t> sum16 = std::vector<int32_t>(2 * kBlocks), bias8 = std::vector<int32_t>(8 * kBlocks);
    std::vector<int32_t> bias1 = std::vector<int32_t>(kBlocks);
    Q8RowOut Row() { return {q.data(), d.data(), dsum.data(), sum16.data(), d8.data(), bias8.data(), bias1.data()}; }
  };
  Out want;
  QuantizeQ8RowScalar(x.data(), kBlocks, 8, want.Row());
  EXPECT_TRUE(std::isinf(want.d[kBlocks - 1]));  // the sweep does reach fp16 overflow
  for (const Isa isa : SimdIsas()) {
    Out got;
    QuantizeQ8RowFor(isa)(x.data(), kBlocks, 8, got.Row());
    ExpectSameBits(want.q.data(), got.q.data(), 32 * kBlocks, "q", isa);
    ExpectSameBits(want.d.data(), got.d.data(), kBlocks, "d", isa);
    ExpectSameBits(want.dsum.data(), got.dsum.data(), kBlocks, "dsum", isa);
    ExpectSameBits(want.sum16.data(), got.sum16.data(), 2 * kBlocks, "sum16", isa);
    ExpectSameBits(want.d8.data(), got.d8.data(), 8 * kBlocks, "d8", isa);
    ExpectSameBits(want.bias8.data(), got.bias8.data(), 8 * kBlocks, "bias8", isa);
    ExpectSameBits(want.bias1.data(), got.bias1.data(), kBlocks, "bias1", isa);
  }
}

}  // namespace
}  // namespace ember
