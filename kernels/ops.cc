#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

#include "kernels/dispatch.h"

namespace ember {

float Dot(const float* a, const float* b, int64_t n) {
  // Four partial sums let the compiler keep independent vector accumulators.
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void AddInPlace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void AddBiasRows(float* y, const float* bias, int64_t n_rows, int64_t n) {
  for (int64_t t = 0; t < n_rows; ++t) AddInPlace(y + t * n, bias, n);
}

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  // The mean of squares is accumulated in double: it is one reduction per row and keeps
  // the normalisation exact to float precision whatever the row length.
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / n + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void LayerNorm(const float* x, const float* weight, const float* bias, int64_t n, float eps,
               float* out) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / n;
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    sum_sq += d * d;
  }
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / n + eps));
  const float fmean = static_cast<float>(mean);
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - fmean) * scale * weight[i] + bias[i];
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float max = *std::max_element(x, x + n);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void SwiGlu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void GeluNew(float* x, int64_t n) { GeluNewFor(ActiveIsa())(x, n); }

void GeluNewScalar(float* x, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

void RopeTable(int64_t pos, int n_rot, float theta, float* cos_out, float* sin_out) {
  // Angles in double: positions reach tens of thousands, where a float product would lose
  // several bits of the angle.
  for (int i = 0; i < n_rot / 2; ++i) {
    const double inv_freq = std::pow(static_cast<double>(theta), -2.0 * i / n_rot);
    const double angle = static_cast<double>(pos) * inv_freq;
    cos_out[i] = static_cast<float>(std::cos(angle));
    sin_out[i] = static_cast<float>(std::sin(angle));
  }
}

void RopeInterleaved(float* x, int n_heads, int head_dim, int n_rot, const float* cos,
                     const float* sin) {
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    for (int i = 0; i < n_rot / 2; ++i) {
      const float a = v[2 * i], b = v[2 * i + 1];
      v[2 * i] = a * cos[i] - b * sin[i];
      v[2 * i + 1] = a * sin[i] + b * cos[i];
    }
  }
}

void RopeNeox(float* x, int n_heads, int head_dim, int n_rot, const float* cos,
              const float* sin) {
  const int half = n_rot / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cos[i] - b * sin[i];
      v[i + half] = a * sin[i] + b * cos[i];
    }
  }
}

}  // namespace ember
