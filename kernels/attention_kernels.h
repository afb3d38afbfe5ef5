// The per-ISA inner loops of attention over a KV cache whose rows are stored as float32,
// IEEE half or bfloat16. lib/model/attention.cc owns the algorithm (blocks of keys,
// online softmax, threading); these kernels only stream rows, converting on the fly.
//
// Rows: row j of a call starts at element j * row_stride of `rows` (elements of the
// cache's type) and holds `dim` values of one head.
#ifndef EMBER_KERNELS_ATTENTION_KERNELS_H_
#define EMBER_KERNELS_ATTENTION_KERNELS_H_

#include <cstdint>

#include "kernels/dispatch.h"
#include "kernels/dtype.h"

namespace ember {

struct KvRowKernels {
  // scores[j] = scale * dot(q, row j), j in [0, n).
  void (*dot)(const float* q, const void* rows, int64_t row_stride, int64_t n, int dim,
              float scale, float* scores) = nullptr;
  // acc[i] += sum_j weights[j] * row_j[i], i in [0, dim).
  void (*accumulate)(const float* weights, const void* rows, int64_t row_stride, int64_t n,
                     int dim, float* acc) = nullptr;
  // Four queries at once (prefill: every row loaded serves four dot products / updates).
  // Optional (nullptr: callers loop over dot / accumulate); where present the results equal
  // four calls of the one-query kernels bit for bit.
  //   scores[i * scores_stride + j] = scale * dot(q + i * q_stride, row j), i in [0, 4)
  void (*dot4)(const float* q, int64_t q_stride, const void* rows, int64_t row_stride, int64_t n,
               int dim, float scale, float* scores, int64_t scores_stride) = nullptr;
  //   acc[i * acc_stride + d] += sum_j weights[i * weights_stride + j] * row_j[d]
  void (*accumulate4)(const float* weights, int64_t weights_stride, const void* rows,
                      int64_t row_stride, int64_t n, int dim, float* acc, int64_t acc_stride) = nullptr;
  // dst[i] = src[i] converted to the row type (round to nearest even), i in [0, n).
  void (*store)(const float* src, int64_t n, void* dst) = nullptr;
};

struct AttentionKernelTable {
  KvRowKernels f32, f16, bf16;
  // x[j] = exp(x[j] - max) for j in [0, n); returns their sum. max >= every x[j].
  float (*exp_sum)(float* x, int64_t n, float max) = nullptr;
};

const AttentionKernelTable& ScalarAttentionKernels();  // kernels/scalar/attention_kernels.cc
const AttentionKernelTable& Avx2AttentionKernels();    // kernels/avx2/attention_kernels.cc
const AttentionKernelTable& Avx512AttentionKernels();  // kernels/avx512/attention_kernels.cc
const AttentionKernelTable& NeonAttentionKernels();    // kernels/neon/attention_kernels.cc

// The table of `isa` (dotprod: the NEON one; attention has no integer dot products).
// Precondition: IsaRunnable(isa). Defined with the architecture's ISA check
// (kernels/arch_isa.h).
const AttentionKernelTable& AttentionKernelsFor(Isa isa);

// The table of ActiveIsa() (so EMBER_ISA / SetActiveIsa cover attention too).
const AttentionKernelTable& ActiveAttentionKernels();
// The row kernels of a KV element type: kF32, kF16 or kBF16 (anything else: f32's).
const KvRowKernels& KvRowKernelsFor(const AttentionKernelTable& table, DType type);

}  // namespace ember

#endif  // EMBER_KERNELS_ATTENTION_KERNELS_H_
