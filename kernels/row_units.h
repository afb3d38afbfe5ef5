// How MatMul splits output rows over threads (kernels/matmul.cc and the tile prefill,
// kernels/tile_prefill.h, share it).
#ifndef EMBER_KERNELS_ROW_UNITS_H_
#define EMBER_KERNELS_ROW_UNITS_H_

#include <algorithm>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "kernels/parallel.h"

namespace ember {

// Threads get whole 16-row units: 64 bytes of each output row, so no two threads write
// the same cache line of y.
inline constexpr int64_t kRowUnit = 16;

// fn(row_begin, row_end) over [0, rows) in whole units (the last one may be short), on
// par's threads.
inline void ForRowUnits(int64_t rows, Parallel& par, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  const int64_t units = (rows + kRowUnit - 1) / kRowUnit;
  par.For(units, [&](int64_t u_begin, int64_t u_end) {
    fn(u_begin * kRowUnit, std::min(rows, u_end * kRowUnit));
  });
}

}  // namespace ember

#endif  // EMBER_KERNELS_ROW_UNITS_H_
