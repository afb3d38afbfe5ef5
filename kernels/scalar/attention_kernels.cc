// Scalar twin of the attention kernels: plain loops, the reference the SIMD paths are
// tested against. Built for baseline x86-64.
#include <cmath>
#include <cstdint>

#include "kernels/attention_kernels.h"
#include "kernels/fp16.h"

namespace ember {
namespace {

struct F32Elem {
  using T = float;
  static float Load(T v) { return v; }
  static T Store(float f) { return f; }
};
struct F16Elem {
  using T = uint16_t;
  static float Load(T v) { return Fp16ToFloat(v); }
  static T Store(float f) { return FloatToFp16(f); }
};
struct Bf16Elem {
  using T = uint16_t;
  static float Load(T v) { return Bf16ToFloat(v); }
  static T Store(float f) { return FloatToBf16(f); }
};

template <typename E>
void DotRows(const float* q, const void* rows, int64_t row_stride, int64_t n, int dim,
             float scale, float* scores) {
  const auto* base = static_cast<const typename E::T*>(rows);
  for (int64_t j = 0; j < n; ++j) {
    const typename E::T* k = base + j * row_stride;
    float s = 0.0f;
    for (int i = 0; i < dim; ++i) s += q[i] * E::Load(k[i]);
    scores[j] = s * scale;
  }
}

template <typename E>
void AccumulateRows(const float* weights, const void* rows, int64_t row_stride, int64_t n,
                    int dim, float* acc) {
  const auto* base = static_cast<const typename E::T*>(rows);
  for (int64_t j = 0; j < n; ++j) {
    const typename E::T* v = base + j * row_stride;
    for (int i = 0; i < dim; ++i) acc[i] += weights[j] * E::Load(v[i]);
  }
}

template <typename E>
void StoreRow(const float* src, int64_t n, void* dst) {
  auto* out = static_cast<typename E::T*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = E::Store(src[i]);
}

float ExpSum(float* x, int64_t n, float max) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    x[j] = std::exp(x[j] - max);
    sum += x[j];
  }
  return sum;
}

template <typename E>
constexpr KvRowKernels RowKernels() {
  return {DotRows<E>, AccumulateRows<E>, nullptr, nullptr, StoreRow<E>};
}

}  // namespace

const AttentionKernelTable& ScalarAttentionKernels() {
  static const AttentionKernelTable table{RowKernels<F32Elem>(), RowKernels<F16Elem>(),
                                          RowKernels<Bf16Elem>(), ExpSum};
  return table;
}

}  // namespace ember
