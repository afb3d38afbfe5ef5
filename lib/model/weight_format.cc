#include "lib/model/weight_format.h"

#include <new>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/quantize.h"
#include "lib/base/errors.h"

namespace ember {

absl::StatusOr<WeightMatrix> ApplyWeightFormat(const WeightMatrix& w, WeightFormat format,
                                               std::string_view name,
                                               std::vector<std::unique_ptr<uint8_t[]>>* owned) {
  if (format == WeightFormat::kAsStored) return w;
  if (w.type != DType::kF32 && w.type != DType::kF16 && w.type != DType::kBF16) return w;
  const DType target = format == WeightFormat::kQ8_0 ? DType::kQ8_0 : DType::kQ4_0;
  const int64_t row_bytes = RowBytes(target, w.cols);
  if (row_bytes < 0) return w;  // rows are not whole blocks: keep them as floats
  const size_t bytes = static_cast<size_t>(row_bytes * w.rows);
  std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[bytes]);
  if (buf == nullptr) {
    return OutOfMemoryError(absl::StrCat("tensor '", AV(name), "': cannot allocate ", bytes,
                                         " bytes to convert it to ", AV(Traits(target).name)));
  }
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    DequantizeRow(w, r, row.data());
    EMBER_RETURN_IF_ERROR(Annotate(QuantizeRow(target, row.data(), w.cols, buf.get() + r * row_bytes),
                                   absl::StrCat("tensor '", AV(name), "'")));
  }
  WeightMatrix out{target, w.rows, w.cols, buf.get(), row_bytes};
  owned->push_back(std::move(buf));
  return out;
}

}  // namespace ember
