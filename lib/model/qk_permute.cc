#include "lib/model/qk_permute.h"

#include <cstring>

namespace ember {

int64_t HfRowForGgufRow(int64_t row, int64_t head_dim) {
  const int64_t head = row / head_dim;
  const int64_t r = row % head_dim;  // = 2i + j
  const int64_t i = r / 2, j = r % 2;
  return head * head_dim + j * (head_dim / 2) + i;
}

void PermuteHfRowsToGguf(const WeightMatrix& hf, int64_t head_dim, uint8_t* dst) {
  const uint8_t* src = static_cast<const uint8_t*>(hf.data);
  for (int64_t row = 0; row < hf.rows; ++row) {
    std::memcpy(dst + row * hf.row_bytes, src + HfRowForGgufRow(row, head_dim) * hf.row_bytes,
                static_cast<size_t>(hf.row_bytes));
  }
}

}  // namespace ember
