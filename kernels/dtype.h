// Element types of weight tensors, with GGML's numeric ids (they are what GGUF files
// store), and the block geometry that every kernel and loader agrees on.
#ifndef EMBER_KERNELS_DTYPE_H_
#define EMBER_KERNELS_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ember {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
};

struct DTypeTraits {
  std::string_view name;   // "F32", "Q8_0", ...
  int64_t block_elems;     // values per block (1 for plain floats)
  int64_t block_bytes;     // bytes per block
  bool supported;          // ember can compute with it
};

// Traits of a GGML type id as read from a file; nullptr for an id ember does not know.
const DTypeTraits* GetDTypeTraits(uint32_t ggml_type);
inline const DTypeTraits& Traits(DType t) { return *GetDTypeTraits(static_cast<uint32_t>(t)); }

// Bytes of one row of `n_elems` values, or -1 if n_elems is not a whole number of blocks
// or the byte count would overflow int64.
int64_t RowBytes(DType type, int64_t n_elems);

}  // namespace ember

#endif  // EMBER_KERNELS_DTYPE_H_
