#include "kernels/tile_prefill.h"

#include <cstdint>
#include <vector>

#include "kernels/amx/amx_bf16_gemm.h"
#include "kernels/amx_support.h"
#include "kernels/row_units.h"

namespace ember {
namespace {

// Prefill batches at least this large use AMX tiles when the machine has them: the kernel
// dequantizes each weight panel to bf16 once per call; below ~192 tokens that costs more
// than the tiles save (matmul_bench Q4_0 n64: 0.7x of the VNNI kernel; n512: 1.66x).
constexpr int64_t kAmxMinTokens = 192;

}  // namespace

bool TilePrefill(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, Parallel& par) {
  if (n_tokens < kAmxMinTokens || !amx::Bf16GemmSupports(w) || !AmxUsable()) return false;
  // bf16 tiles (kernels/amx/amx_bf16_gemm.h says why not int8 ones).
  thread_local std::vector<uint8_t> storage;
  const size_t bytes = static_cast<size_t>(amx::Bf16ActivationBytes(n_tokens, w.cols));
  if (storage.size() < bytes + 64) storage.resize(bytes + 64);
  auto* packed = reinterpret_cast<uint16_t*>(storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64);
  amx::PackActivationsBf16(x, n_tokens, w.cols, packed);
  ForRowUnits(w.rows, par, [&](int64_t b, int64_t e) { amx::Bf16Gemm(w, b, e, packed, n_tokens, y, w.rows); });
  return true;
}

}  // namespace ember
