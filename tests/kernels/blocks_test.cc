// Block formats: dequantization of hand-built blocks, quantizer round trips, and the Q8
// activation quantizer's rounding.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/q8_activation_buffer.h"
#include "kernels/quantize.h"

namespace ember {
namespace {

template <typename Block>
std::vector<float> Dequantize(DType type, const Block& blk, int n) {
  std::vector<float> out(n);
  const WeightMatrix w{type, 1, n, &blk, sizeof(Block)};
  DequantizeRow(w, 0, out.data());
  return out;
}

constexpr uint16_t kHalfQuarter = 0x3400, kHalfHalf = 0x3800, kHalfOne = 0x3C00, kHalfTwo = 0x4000;

TEST(DequantizeTest, Q8_0) {
  BlockQ8_0 b;
  b.d = kHalfHalf;
  for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<int8_t>(8 * i - 128);  // -128 .. 120
  const auto v = Dequantize(DType::kQ8_0, b, 32);
  EXPECT_EQ(v[0], -64.0f);
  EXPECT_EQ(v[1], -60.0f);
  EXPECT_EQ(v[31], 60.0f);
}

TEST(DequantizeTest, Q4_0LowNibblesFirst) {
  BlockQ4_0 b;
  b.d = kHalfTwo;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto v = Dequantize(DType::kQ4_0, b, 32);
  EXPECT_EQ(v[0], -16.0f);   // (0 - 8) * 2
  EXPECT_EQ(v[15], 14.0f);   // (15 - 8) * 2
  EXPECT_EQ(v[16], 14.0f);   // high nibble of qs[0] = 15
  EXPECT_EQ(v[31], -16.0f);  // high nibble of qs[15] = 0
}

// Scales/mins packed by hand: sc = {1,2,3,63,17,33,48,5}, m = {0,1,2,3,20,40,63,16}.
constexpr uint8_t kScalesK[12] = {65, 130, 195, 63, 64, 129, 194, 67, 65, 129, 240, 5};
constexpr int kSc[8] = {1, 2, 3, 63, 17, 33, 48, 5};
constexpr int kM[8] = {0, 1, 2, 3, 20, 40, 63, 16};

TEST(DequantizeTest, UnpackScalesMinsK) {
  uint8_t sc[8], m[8], packed[12];
  UnpackScalesMinsK(kScalesK, sc, m);
  for (int j = 0; j < 8; ++j) {
    EXPECT_EQ(sc[j], kSc[j]) << j;
    EXPECT_EQ(m[j], kM[j]) << j;
  }
  PackScalesMinsK(sc, m, packed);
  EXPECT_EQ(std::memcmp(packed, kScalesK, 12), 0);
}

TEST(DequantizeTest, Q4_K) {
  BlockQ4_K b;
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  std::memcpy(b.scales, kScalesK, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i * 7);
  const auto v = Dequantize(DType::kQ4_K, b, 256);
  // Element 0: qs[0] low = 0, sub-block 0 -> 1*1*0 - 0.5*0.
  EXPECT_EQ(v[0], 0.0f);
  // Element 33: chunk 0, high nibble of qs[1] = 7 >> 4 = 0, sub-block 1: 0 - 0.5*1.
  EXPECT_EQ(v[33], -0.5f);
  // Element 70: chunk 1, l = 6: qs[38] = 266 & 255 = 10, low nibble 10, sub-block 2: 3*10 - 1.
  EXPECT_EQ(v[70], 29.0f);
  // Element 255: chunk 3, l = 63: high nibble of qs[127] = 889 & 255 = 121 -> 7,
  // sub-block 7: 5*7 - 0.5*16 = 27.
  EXPECT_EQ(v[255], 27.0f);
  // Element 200: chunk 3, l = 8: qs[104] = 728 & 255 = 216, low nibble 8, sub-block 6: 48*8 - 31.5.
  EXPECT_EQ(v[200], 352.5f);
}

TEST(DequantizeTest, Q5_K) {
  BlockQ5_K b;
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  std::memcpy(b.scales, kScalesK, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i * 7);
  for (int l = 0; l < 32; ++l) b.qh[l] = static_cast<uint8_t>(l % 2 == 0 ? 0xAA : 0x55);
  const auto v = Dequantize(DType::kQ5_K, b, 256);
  // Element 0: low nibble 0, qh[0] = 0xAA bit 0 = 0 -> 0.
  EXPECT_EQ(v[0], 0.0f);
  // Element 33: high nibble 0, qh[1] = 0x55 bit 1 = 0 -> q = 0, sub-block 1: -0.5.
  EXPECT_EQ(v[33], -0.5f);
  // Element 32: high nibble of qs[0] = 0, qh[0] = 0xAA bit 1 = 1 -> q = 16, sub-block 1: 2*16 - 0.5.
  EXPECT_EQ(v[32], 31.5f);
  // Element 70: low nibble 10, qh[6] = 0xAA bit 2 = 0 -> q = 10, sub-block 2: 29.
  EXPECT_EQ(v[70], 29.0f);
  // Element 255: high nibble 7, qh[31] = 0x55 bit 7 = 0 -> 7: 27.
  EXPECT_EQ(v[255], 27.0f);
  // Element 200: low nibble 8, qh[8] = 0xAA bit 6 = 0 -> 8; element 201: qs[105] = 735 & 255
  // = 223, low nibble 15, qh[9] = 0x55 bit 6 = 1 -> 31, sub-block 6: 48*31 - 31.5.
  EXPECT_EQ(v[200], 352.5f);
  EXPECT_EQ(v[201], 1456.5f);
}

TEST(DequantizeTest, Q6_K) {
  BlockQ6_K b;
  b.d = kHalfQuarter;
  for (int i = 0; i < 16; ++i) b.scales[i] = static_cast<int8_t>(i - 8);
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i * 5);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<uint8_t>(0xE4);  // bits 00 01 10 11 (low first)
  const auto v = Dequantize(DType::kQ6_K, b, 256);
  // Element 0: ql[0] low = 0, qh bits 0-1 = 0 -> q - 32 = -32; scale -8; d/4: 0.25*-8*-32 = 64.
  EXPECT_EQ(v[0], 64.0f);
  // Element 33: ql[33] = 165 low = 5, qh bits 2-3 = 1 -> 21 - 32 = -11; sub-block 2: 0.25*-6*-11.
  EXPECT_EQ(v[33], 16.5f);
  // Element 70: ql[6] = 30 high = 1, qh bits 4-5 = 2 -> 33 - 32 = 1; sub-block 4: 0.25*-4*1.
  EXPECT_EQ(v[70], -1.0f);
  // Element 255: half 1, l = 31 + 96: ql[64 + 63] = 635 & 255 = 123 high = 7, qh bits 6-7 = 3
  // -> 55 - 32 = 23; sub-block 15: 0.25*7*23.
  EXPECT_EQ(v[255], 40.25f);
}

TEST(DequantizeTest, FloatTypes) {
  const float f[3] = {1.5f, -2.25f, 65504.0f};
  uint16_t h[3], bf[3];
  for (int i = 0; i < 3; ++i) {
    h[i] = FloatToFp16(f[i]);
    bf[i] = FloatToBf16(f[i]);
  }
  float out[3];
  DequantizeRow(WeightMatrix{DType::kF32, 1, 3, f, 12}, 0, out);
  EXPECT_EQ(out[2], 65504.0f);
  DequantizeRow(WeightMatrix{DType::kF16, 1, 3, h, 6}, 0, out);
  EXPECT_EQ(out[1], -2.25f);
  EXPECT_EQ(out[2], 65504.0f);
  DequantizeRow(WeightMatrix{DType::kBF16, 1, 3, bf, 6}, 0, out);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[2], 65536.0f);  // bf16 has 8 mantissa bits
}

TEST(QuantizeTest, Q8_0MatchesFormula) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) / 16.0f;  // amax = 1
  BlockQ8_0 b;
  ASSERT_TRUE(QuantizeRow(DType::kQ8_0, x, 32, &b).ok());
  EXPECT_EQ(b.d, FloatToFp16(1.0f / 127.0f));
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[4], -95);   // -0.75 * 127 = -95.25
  EXPECT_EQ(b.qs[31], 119);  // 15/16 * 127 = 119.06
}

TEST(QuantizeTest, Q4_0UsesFullRange) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i) / 31.0f * 2.0f - 1.0f;
  x[5] = -1.6f;  // largest magnitude, negative -> d = 0.2, maps to q = 0
  BlockQ4_0 b;
  ASSERT_TRUE(QuantizeRow(DType::kQ4_0, x, 32, &b).ok());
  EXPECT_EQ(b.d, FloatToFp16(0.2f));
  EXPECT_EQ(b.qs[5] & 0x0F, 0);
  EXPECT_EQ(b.qs[15] >> 4, 13);  // x[31] = 1: 1 * 5 + 8.5 = 13.5, truncated
}

TEST(QuantizeTest, RejectsPartialBlocks) {
  std::vector<float> x(40, 1.0f);
  std::vector<uint8_t> out(1024);
  EXPECT_FALSE(QuantizeRow(DType::kQ8_0, x.data(), 40, out.data()).ok());
  EXPECT_FALSE(QuantizeRow(DType::kQ4_K, x.data(), 40, out.data()).ok());
  EXPECT_FALSE(QuantizeRow(DType::kQ2_K, x.data(), 256, out.data()).ok());
}

struct RoundTripCase {
  DType type;
  double max_rms;   // for uniform values in [-1, 1]
  double max_abs;
};

class QuantizeRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(QuantizeRoundTrip, ErrorWithinStep) {
  const RoundTripCase c = GetParam();
  constexpr int kN = 1024;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(kN), back(kN);
  for (float& v : x) v = u(rng);
  std::vector<uint8_t> q(static_cast<size_t>(RowBytes(c.type, kN)));
  ASSERT_TRUE(QuantizeRow(c.type, x.data(), kN, q.data()).ok());
  DequantizeRow(WeightMatrix{c.type, 1, kN, q.data(), RowBytes(c.type, kN)}, 0, back.data());
  double sq = 0.0, worst = 0.0;
  for (int i = 0; i < kN; ++i) {
    const double e = std::fabs(static_cast<double>(x[i]) - back[i]);
    sq += e * e;
    worst = std::max(worst, e);
  }
  EXPECT_LT(std::sqrt(sq / kN), c.max_rms);
  EXPECT_LT(worst, c.max_abs);
}

// Step sizes for [-1, 1]: Q8_0 1/127, Q4_0 1/8, Q4_K ~2/15, Q5_K ~2/31, Q6_K 1/31;
// rounding error is at most half a step (rms step/sqrt(12)), plus the clamp at the edges
// (Q4_0: one step) and, for K-quants, the 6-bit rounding of scales and mins. F16/BF16:
// half an ulp of [0.5, 1) is 2^-12 / 2^-9.
INSTANTIATE_TEST_SUITE_P(Types, QuantizeRoundTrip,
                         ::testing::Values(RoundTripCase{DType::kQ8_0, 0.003, 0.0045},
                                           RoundTripCase{DType::kQ4_0, 0.045, 0.13},
                                           RoundTripCase{DType::kQ4_K, 0.045, 0.12},
                                           RoundTripCase{DType::kQ5_K, 0.022, 0.06},
                                           RoundTripCase{DType::kQ6_K, 0.011, 0.025},
                                           RoundTripCase{DType::kF16, 2e-4, 3e-4},
                                           RoundTripCase{DType::kBF16, 2e-3, 4e-3}));

TEST(Q8ActivationsTest, RoundsHalfToEvenAndPrecomputesSums) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax 127 -> scale 1, x * 127/amax = x
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = 0.49f;
  x[20] = -7.0f;
  Q8ActivationBuffer buf;
  buf.Quantize(x.data(), 1, 32, 8, SerialParallel());
  const Q8ActivationsView& v = buf.view();
  EXPECT_EQ(v.d[0], 1.0f);
  EXPECT_EQ(v.q[1], 2);
  EXPECT_EQ(v.q[2], 4);
  EXPECT_EQ(v.q[3], -2);
  EXPECT_EQ(v.q[4], 0);
  EXPECT_EQ(v.sum16[0], 127 + 2 + 4 - 2);
  EXPECT_EQ(v.sum16[1], -7);
  EXPECT_EQ(v.dsum[0], 124.0f);
  EXPECT_EQ(v.bias8[0], -8 * 131);
  EXPECT_EQ(v.bias8[4], 56);
  EXPECT_EQ(v.bias8[1], 0);
  EXPECT_EQ(v.d8[7], 1.0f);
}

TEST(Q8ActivationsTest, ZeroBlockHasZeroScale) {
  std::vector<float> x(64, 0.0f);
  x[40] = -1.0f;
  Q8ActivationBuffer buf;
  buf.Quantize(x.data(), 1, 64, 0, SerialParallel());
  EXPECT_EQ(buf.view().d[0], 0.0f);
  EXPECT_EQ(buf.view().q[0], 0);
  EXPECT_EQ(buf.view().q[40], -127);
  EXPECT_EQ(buf.view().d[1], Fp16ToFloat(FloatToFp16(1.0f / 127.0f)));
}

}  // namespace
}  // namespace ember
