#include "kernels/attention_kernels.h"

namespace ember {

const AttentionKernelTable& ActiveAttentionKernels() { return AttentionKernelsFor(ActiveIsa()); }

const KvRowKernels& KvRowKernelsFor(const AttentionKernelTable& table, DType type) {
  switch (type) {
    case DType::kF16: return table.f16;
    case DType::kBF16: return table.bf16;
    default: return table.f32;
  }
}

}  // namespace ember
