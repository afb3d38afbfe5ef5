#include "kernels/dtype.h"

namespace ember {

const DTypeTraits* GetDTypeTraits(uint32_t ggml_type) {
  // Block geometry of the GGML formats (public facts of the GGUF format).
  static const DTypeTraits kF32{"F32", 1, 4, true};
  static const DTypeTraits kF16{"F16", 1, 2, true};
  static const DTypeTraits kBF16{"BF16", 1, 2, true};
  static const DTypeTraits kQ4_0{"Q4_0", 32, 18, true};
  static const DTypeTraits kQ4_1{"Q4_1", 32, 20, false};
  static const DTypeTraits kQ5_0{"Q5_0", 32, 22, false};
  static const DTypeTraits kQ5_1{"Q5_1", 32, 24, false};
  static const DTypeTraits kQ8_0{"Q8_0", 32, 34, true};
  static const DTypeTraits kQ8_1{"Q8_1", 32, 36, false};
  static const DTypeTraits kQ2_K{"Q2_K", 256, 84, false};
  static const DTypeTraits kQ3_K{"Q3_K", 256, 110, false};
  static const DTypeTraits kQ4_K{"Q4_K", 256, 144, true};
  static const DTypeTraits kQ5_K{"Q5_K", 256, 176, true};
  static const DTypeTraits kQ6_K{"Q6_K", 256, 210, true};
  static const DTypeTraits kQ8_K{"Q8_K", 256, 292, false};
  switch (ggml_type) {
    case 0: return &kF32;
    case 1: return &kF16;
    case 2: return &kQ4_0;
    case 3: return &kQ4_1;
    case 6: return &kQ5_0;
    case 7: return &kQ5_1;
    case 8: return &kQ8_0;
    case 9: return &kQ8_1;
    case 10: return &kQ2_K;
    case 11: return &kQ3_K;
    case 12: return &kQ4_K;
    case 13: return &kQ5_K;
    case 14: return &kQ6_K;
    case 15: return &kQ8_K;
    case 30: return &kBF16;
    default: return nullptr;
  }
}

int64_t RowBytes(DType type, int64_t n_elems) {
  const DTypeTraits* t = GetDTypeTraits(static_cast<uint32_t>(type));
  if (t == nullptr || n_elems < 0 || n_elems % t->block_elems != 0) return -1;
  const int64_t blocks = n_elems / t->block_elems;
  if (blocks > INT64_MAX / t->block_bytes) return -1;  // hostile dims: report, never overflow
  return blocks * t->block_bytes;
}

}  // namespace ember
