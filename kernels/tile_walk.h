// The ISA-neutral half of the tiled matmul kernels: how rows and tokens are cut into cache
// panels and register tiles, and how a tile of runtime size (R rows x T tokens) reaches the
// kernel compiled for that size. kernels/avx2 and kernels/avx512 supply the tiles.
//
// Everything here lives in an anonymous namespace on purpose: each ISA translation unit gets
// its own copy compiled with its own flags, so no AVX-512 instance of a shared inline
// function can be picked by the linker for code that runs on an AVX2-only machine.
#ifndef EMBER_KERNELS_TILE_WALK_H_
#define EMBER_KERNELS_TILE_WALK_H_

#include <cstdint>

#include "kernels/matmul.h"
#include "kernels/q8_activations.h"

namespace ember {
namespace {

inline int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }

// Rows per cache panel: each thread walks token tiles over a panel of rows small enough to
// stay in L2, so prefill reads each weight row from memory once.
inline int64_t PanelRows(int64_t row_bytes, int64_t tile_rows) {
  int64_t p = (256 * 1024) / (row_bytes > 0 ? row_bytes : 1);
  p -= p % tile_rows;
  return p < tile_rows ? tile_rows : p;
}

// Tiles are at most 4 rows x kMaxTokens tokens.
constexpr int kMaxTokens = 4;

template <template <int, int> class Tile, int R>
void RunTileR(int nt, const void* args) {
  switch (nt) {
    case 1: Tile<R, 1>::Run(args); break;
    case 2: Tile<R, 2>::Run(args); break;
    case 3: Tile<R, 3>::Run(args); break;
    default: Tile<R, 4>::Run(args); break;
  }
}

template <template <int, int> class Tile>
void RunTile(int nr, int nt, const void* args) {
  switch (nr) {
    case 1: RunTileR<Tile, 1>(nt, args); break;
    case 2: RunTileR<Tile, 2>(nt, args); break;
    case 3: RunTileR<Tile, 3>(nt, args); break;
    default: RunTileR<Tile, 4>(nt, args); break;
  }
}

// Walks [row_begin, row_end) x [0, n_tokens) in tiles of up to tile_rows (<= 4) rows;
// `args` is handed to each tile with its origin (r0, t0) set.
template <template <int, int> class Tile, typename Args>
void ForEachTile(Args args, int64_t row_begin, int64_t row_end, int64_t n_tokens, int64_t row_bytes,
                 int64_t tile_rows) {
  const int64_t panel = PanelRows(row_bytes, 4);
  for (int64_t p0 = row_begin; p0 < row_end; p0 += panel) {
    const int64_t p1 = Min(row_end, p0 + panel);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kMaxTokens) {
      const int nt = static_cast<int>(Min(kMaxTokens, n_tokens - t0));
      for (int64_t r0 = p0; r0 < p1; r0 += tile_rows) {
        args.r0 = r0;
        args.t0 = t0;
        RunTile<Tile>(static_cast<int>(Min(tile_rows, p1 - r0)), nt, &args);
      }
    }
  }
}

// What a float-weight tile and a quantized-weight tile need, with the tile's origin.
struct FloatArgs {
  const WeightMatrix* w;
  const float* x;
  float* y;
  int64_t y_stride, r0, t0;
};

struct QuantArgs {
  const WeightMatrix* w;
  const Q8ActivationsView* x;
  float* y;
  int64_t y_stride, r0, t0;
};

}  // namespace
}  // namespace ember

#endif  // EMBER_KERNELS_TILE_WALK_H_
