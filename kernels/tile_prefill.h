// Prefill matmuls on a matrix tile unit, where the machine has one the kernels use: x86-64's
// AMX-BF16 (kernels/x86/tile_prefill.cc, kernels/amx/amx_bf16_gemm.h). aarch64 has none yet
// (kernels/arm/tile_prefill.cc; SME would go there).
#ifndef EMBER_KERNELS_TILE_PREFILL_H_
#define EMBER_KERNELS_TILE_PREFILL_H_

#include <cstdint>

#include "kernels/matmul.h"
#include "kernels/parallel.h"

namespace ember {

// y[t * w.rows + r] = row r of w . x[t] for every row and token, on the tile unit, when there
// is one, it is allowed (AmxUsable) and worth it for this matrix and token count; returns
// false, having done nothing, otherwise. Not row-exact (kernels/kernel_table.h): callers that
// need row exactness do not call it.
bool TilePrefill(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par);

}  // namespace ember

#endif  // EMBER_KERNELS_TILE_PREFILL_H_
