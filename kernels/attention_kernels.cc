#include "kernels/attention_kernels.h"

namespace ember {

const AttentionKernelTable& ActiveAttentionKernels() {
  switch (ActiveIsa()) {
    case Isa::kAvx512: return Avx512AttentionKernels();
    case Isa::kAvx2: return Avx2AttentionKernels();
    case Isa::kScalar: break;
  }
  return ScalarAttentionKernels();
}

const KvRowKernels& KvRowKernelsFor(const AttentionKernelTable& table, DType type) {
  switch (type) {
    case DType::kF16: return table.f16;
    case DType::kBF16: return table.bf16;
    default: return table.f32;
  }
}

}  // namespace ember
