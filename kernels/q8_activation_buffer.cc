#include "kernels/q8_activation_buffer.h"

#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/fp16.h"
#include "kernels/q8_quantize_kernels.h"

namespace ember {

float QuantizeQ8Block(const float* x, int8_t* q) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  // The scale is stored as fp16 (as a Q8_0 block would be) but the values are divided by
  // the unrounded amax/127, as llama.cpp does; nearbyint rounds half to even.
  const float inv = amax != 0.0f ? 127.0f / amax : 0.0f;
  // Round half to even without a libm call per value (baseline x86-64 has no roundss):
  // adding 1.5 * 2^23 leaves no fraction bits, so the FPU's default rounding does it; exact
  // for |v| < 2^22, and |v| <= 127 here. Same results as std::nearbyint.
  constexpr float kRound = 12582912.0f;
  for (int i = 0; i < 32; ++i) {
    const float v = (x[i] * inv + kRound) - kRound;
    // A NaN in the block (or inf * 0) quantizes to 0, as the SIMD twins do, and never reaches
    // the float-to-int conversion, which would be undefined for it (clang's UBSan checks).
    q[i] = std::isfinite(v) ? static_cast<int8_t>(static_cast<int>(v)) : int8_t{0};
  }
  return Fp16ToFloat(FloatToFp16(amax / 127.0f));
}

void QuantizeQ8RowScalar(const float* x, int64_t n_blocks, int weight_offset, const Q8RowOut& out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    int8_t* q = out.q + 32 * b;
    const float d = QuantizeQ8Block(x + 32 * b, q);
    int32_t s[2] = {0, 0};
    for (int i = 0; i < 32; ++i) s[i / 16] += q[i];
    out.d[b] = d;
    out.dsum[b] = d * static_cast<float>(s[0] + s[1]);
    out.sum16[2 * b] = s[0];
    out.sum16[2 * b + 1] = s[1];
    for (int l = 0; l < 8; ++l) {
      out.d8[8 * b + l] = d;
      out.bias8[8 * b + l] = 0;
    }
    out.bias8[8 * b] = -weight_offset * s[0];
    out.bias8[8 * b + 4] = -weight_offset * s[1];
    out.bias1[b] = -weight_offset * (s[0] + s[1]);
  }
}

void Q8ActivationBuffer::Quantize(const float* x, int64_t n_tokens, int64_t cols,
                                  int weight_offset, Parallel& par) {
  const int64_t nb = cols / 32;
  const size_t n = static_cast<size_t>(n_tokens);
  q_.resize(n * cols);
  d_.resize(n * nb);
  dsum_.resize(n * nb);
  sum16_.resize(n * nb * 2);
  d8_.resize(n * nb * 8);
  bias8_.resize(n * nb * 8);
  bias1_.resize(n * nb);
  const QuantizeQ8RowFn row = QuantizeQ8RowFor(ActiveIsa());
  par.For(n_tokens, [&](int64_t t_begin, int64_t t_end) {
    for (int64_t t = t_begin; t < t_end; ++t) {
      const Q8RowOut out{q_.data() + t * cols,      d_.data() + t * nb,      dsum_.data() + t * nb,
                         sum16_.data() + 2 * t * nb, d8_.data() + 8 * t * nb, bias8_.data() + 8 * t * nb,
                         bias1_.data() + t * nb};
      row(x + t * cols, nb, weight_offset, out);
    }
  });
  view_ = Q8ActivationsView{n_tokens, cols, nb, weight_offset, q_.data(), d_.data(),
                            sum16_.data(), dsum_.data(), d8_.data(), bias8_.data(), bias1_.data()};
}

}  // namespace ember
