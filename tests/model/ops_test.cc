// kernels/ops: the per-row operations of the forward pass against direct formulas.
#include "kernels/ops.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(OpsTest, RmsNorm) {
  const float x[4] = {1, -2, 3, -4};
  const float w[4] = {1, 1, 2, 0.5f};
  float out[4];
  RmsNorm(x, w, 4, 1e-5f, out);
  const float inv = 1.0f / std::sqrt((1 + 4 + 9 + 16) / 4.0f + 1e-5f);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[i], x[i] * inv * w[i], 1e-6f);
}

TEST(OpsTest, LayerNorm) {
  const float x[4] = {1, 2, 3, 6};
  const float w[4] = {1, 2, 1, 1};
  const float b[4] = {0, 0, 0.5f, -1};
  float out[4];
  LayerNorm(x, w, b, 4, 1e-5f, out);
  const float mean = 3, var = (4 + 1 + 0 + 9) / 4.0f;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(out[i], (x[i] - mean) / std::sqrt(var + 1e-5f) * w[i] + b[i], 1e-6f);
  }
}

TEST(OpsTest, SoftmaxIsStableAndNormalised) {
  float x[3] = {1000, 1001, 999};
  Softmax(x, 3);
  EXPECT_NEAR(x[0] + x[1] + x[2], 1.0f, 1e-6f);
  EXPECT_NEAR(x[1] / x[0], std::exp(1.0f), 1e-4f);
}

TEST(OpsTest, GeluNewAndSwiGlu) {
  float g[3] = {-1.5f, 0.0f, 2.0f};
  GeluNew(g, 3);
  // Values of 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))).
  EXPECT_NEAR(g[0], -0.1004f, 1e-4f);
  EXPECT_EQ(g[1], 0.0f);
  EXPECT_NEAR(g[2], 1.9546f, 1e-4f);
  float gate[2] = {1.0f, -2.0f};
  const float up[2] = {3.0f, 0.5f};
  SwiGlu(gate, up, 2);
  EXPECT_NEAR(gate[0], 1.0f / (1.0f + std::exp(-1.0f)) * 3.0f, 1e-6f);
  EXPECT_NEAR(gate[1], -2.0f / (1.0f + std::exp(2.0f)) * 0.5f, 1e-6f);
}

// Interleaved RoPE on the GGUF layout equals rotate-half RoPE on the HF layout (the
// permutation the loader applies), with partial rotation leaving the tail untouched.
TEST(OpsTest, RopeInterleavedEqualsNeoxUnderPermutation) {
  const int head_dim = 8, n_rot = 8;
  std::vector<float> cos(n_rot / 2), sin(n_rot / 2);
  RopeTable(37, n_rot, 10000.0f, cos.data(), sin.data());
  EXPECT_NEAR(cos[0], std::cos(37.0), 1e-6);
  EXPECT_NEAR(sin[1], std::sin(37.0 * std::pow(10000.0, -2.0 / 8)), 1e-6);
  std::vector<float> hf(head_dim), gguf(head_dim);
  for (int i = 0; i < head_dim; ++i) hf[i] = 0.3f * i - 1.0f;
  for (int i = 0; i < head_dim / 2; ++i) {
    gguf[2 * i] = hf[i];
    gguf[2 * i + 1] = hf[i + head_dim / 2];
  }
  RopeNeox(hf.data(), 1, head_dim, n_rot, cos.data(), sin.data());
  RopeInterleaved(gguf.data(), 1, head_dim, n_rot, cos.data(), sin.data());
  for (int i = 0; i < head_dim / 2; ++i) {
    EXPECT_NEAR(gguf[2 * i], hf[i], 1e-6f);
    EXPECT_NEAR(gguf[2 * i + 1], hf[i + head_dim / 2], 1e-6f);
  }

  // Partial NEOX (Phi-2): 6 of 16 dims, pairs (i, i + 3).
  std::vector<float> v(16, 1.0f), c6(3), s6(3);
  RopeTable(5, 6, 10000.0f, c6.data(), s6.data());
  RopeNeox(v.data(), 1, 16, 6, c6.data(), s6.data());
  EXPECT_NEAR(v[0], c6[0] - s6[0], 1e-6f);
  EXPECT_NEAR(v[3], s6[0] + c6[0], 1e-6f);
  for (int i = 6; i < 16; ++i) EXPECT_EQ(v[i], 1.0f);
}

}  // namespace
}  // namespace ember
