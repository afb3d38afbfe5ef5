// Owner of the memory behind a Q8ActivationsView and the quantizer that fills it (per-ISA
// twins in q8_quantize_kernels.h, bit-identical on every ISA).
#ifndef EMBER_KERNELS_Q8_ACTIVATION_BUFFER_H_
#define EMBER_KERNELS_Q8_ACTIVATION_BUFFER_H_

#include <cstdint>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/q8_activations.h"

namespace ember {

class Q8ActivationBuffer {
 public:
  // Quantizes n_tokens rows of `cols` floats (cols a multiple of 32). weight_offset is the
  // offset the consuming kernel adds to its weights to make them unsigned (see bias8).
  // Tokens are spread over `par`; each row goes through the twin of ActiveIsa().
  void Quantize(const float* x, int64_t n_tokens, int64_t cols, int weight_offset, Parallel& par);
  const Q8ActivationsView& view() const { return view_; }

 private:
  std::vector<int8_t> q_;
  std::vector<float> d_, dsum_, d8_;
  std::vector<int32_t> sum16_, bias8_, bias1_;
  Q8ActivationsView view_;
};

// Quantizes one 32-value block: returns the fp16-rounded scale and writes q[0..32).
float QuantizeQ8Block(const float* x, int8_t* q);

}  // namespace ember

#endif  // EMBER_KERNELS_Q8_ACTIVATION_BUFFER_H_
