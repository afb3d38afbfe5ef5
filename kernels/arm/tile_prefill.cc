#include "kernels/tile_prefill.h"

namespace ember {

// No matrix tile unit on aarch64 yet: prefill stays on the NEON row kernels.
bool TilePrefill(const WeightMatrix&, const float*, int64_t, float*, Parallel&) { return false; }

}  // namespace ember
