// A view of one tensor inside a mapped model file (GGUF or safetensors). Views do not own
// their bytes: the file they came from must outlive them.
#ifndef EMBER_FORMAT_TENSOR_H_
#define EMBER_FORMAT_TENSOR_H_

#include <cstdint>
#include <string>

#include "kernels/dtype.h"

namespace ember {

struct TensorView {
  std::string name;
  DType type = DType::kF32;
  int n_dims = 0;
  // Dimensions innermost first, as GGUF lists them (ne[0] is the row length); unused
  // trailing entries are 1. A safetensors [out, in] tensor is {in, out, 1, 1} here.
  int64_t ne[4] = {1, 1, 1, 1};
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

}  // namespace ember

#endif  // EMBER_FORMAT_TENSOR_H_
