#include "kernels/q8_activation_buffer.h"

#include <cmath>

#include "kernels/fp16.h"

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
  for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(static_cast<int>((x[i] * inv + kRound) - kRound));
  return Fp16ToFloat(FloatToFp16(amax / 127.0f));
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
  par.For(n_tokens, [&](int64_t t_begin, int64_t t_end) {
    for (int64_t t = t_begin; t < t_end; ++t) {
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t blk = t * nb + b;
        int8_t* q = q_.data() + t * cols + 32 * b;
        const float d = QuantizeQ8Block(x + t * cols + 32 * b, q);
        int32_t s[2] = {0, 0};
        for (int i = 0; i < 32; ++i) s[i / 16] += q[i];
        d_[blk] = d;
        dsum_[blk] = d * static_cast<float>(s[0] + s[1]);
        sum16_[2 * blk] = s[0];
        sum16_[2 * blk + 1] = s[1];
        for (int l = 0; l < 8; ++l) {
          d8_[8 * blk + l] = d;
          bias8_[8 * blk + l] = 0;
        }
        bias8_[8 * blk] = -weight_offset * s[0];
        bias8_[8 * blk + 4] = -weight_offset * s[1];
        bias1_[blk] = -weight_offset * (s[0] + s[1]);
      }
    }
  });
  view_ = Q8ActivationsView{n_tokens, cols, nb, weight_offset, q_.data(), d_.data(),
                            sum16_.data(), dsum_.data(), d8_.data(), bias8_.data(), bias1_.data()};
}

}  // namespace ember
