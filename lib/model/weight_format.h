// Load-time conversion of float weight matrices into a quantized WeightFormat
// (ember_model_options_set_weight_format). Matrices already stored quantized are kept.
#ifndef EMBER_MODEL_WEIGHT_FORMAT_H_
#define EMBER_MODEL_WEIGHT_FORMAT_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/matmul.h"
#include "lib/model/model.h"

namespace ember {

// Returns `w` itself for kAsStored, for matrices that are not F32/F16/BF16 and for rows
// that are not a whole number of quantization blocks; otherwise a matrix of the target
// type whose bytes are appended to `owned`. `name` is used in messages.
absl::StatusOr<WeightMatrix> ApplyWeightFormat(const WeightMatrix& w, WeightFormat format,
                                               std::string_view name,
                                               std::vector<std::unique_ptr<uint8_t[]>>* owned);

}  // namespace ember

#endif  // EMBER_MODEL_WEIGHT_FORMAT_H_
