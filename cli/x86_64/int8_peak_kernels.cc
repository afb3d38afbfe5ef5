// x86-64's int8 peak loops (cli/int8_peak_kernels.h): vpdpbusd on AVX-512 VNNI, else
// vpmaddubsw + vpmaddwd on AVX2, each function compiled for its ISA by a target attribute
// and called only when the CPU has it.
#include <immintrin.h>

#include <cstdint>

#include "cli/int8_peak_kernels.h"

namespace ember::cli {
namespace {

// One iteration: kInt8PeakChains vpdpbusd zmm, each 64 u8 x s8 products summed into 16
// int32 lanes.
__attribute__((target("avx512f,avx512vnni"))) uint64_t RunVnni512(int64_t iterations) {
#define EMBER_DECLARE(c) __m512i acc##c = _mm512_set1_epi32(c);
  EMBER_PEAK_CHAINS(EMBER_DECLARE)
#undef EMBER_DECLARE
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-1);
  for (int64_t i = 0; i < iterations; ++i) {
#define EMBER_STEP(c) acc##c = _mm512_dpbusd_epi32(acc##c, a, b);
    EMBER_PEAK_CHAINS(EMBER_STEP)
#undef EMBER_STEP
  }
  __m512i sum = _mm512_setzero_si512();
#define EMBER_SUM(c) sum = _mm512_add_epi32(sum, acc##c);
  EMBER_PEAK_CHAINS(EMBER_SUM)
#undef EMBER_SUM
  // Stored and summed by hand: GCC 12's _mm512_reduce_add_epi32 warns (-Wuninitialized).
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, sum);
  return static_cast<uint64_t>(lanes[0] ^ lanes[15]);
}

// Without VNNI the int8 dot is vpmaddubsw (u8 x s8 -> s16 pairs) + vpmaddwd (-> s32) +
// vpaddd: 32 products per three instructions on ymm registers. Each chain multiplies its own
// accumulator's bytes, or the compiler would hoist the (loop-invariant) products.
__attribute__((target("avx2"))) uint64_t RunAvx2(int64_t iterations) {
#define EMBER_DECLARE(c) __m256i acc##c = _mm256_set1_epi32(c);
  EMBER_PEAK_CHAINS(EMBER_DECLARE)
#undef EMBER_DECLARE
  const __m256i b = _mm256_set1_epi8(-1), ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < iterations; ++i) {
#define EMBER_STEP(c) acc##c = _mm256_add_epi32(acc##c, _mm256_madd_epi16(_mm256_maddubs_epi16(acc##c, b), ones));
    EMBER_PEAK_CHAINS(EMBER_STEP)
#undef EMBER_STEP
  }
  __m256i sum = _mm256_setzero_si256();
#define EMBER_SUM(c) sum = _mm256_add_epi32(sum, acc##c);
  EMBER_PEAK_CHAINS(EMBER_SUM)
#undef EMBER_SUM
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  return static_cast<uint64_t>(lanes[0]);
}

}  // namespace

Int8PeakKernel BestInt8PeakKernel() {
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512f")) {
    return {RunVnni512, kInt8PeakChains * 64.0, "vpdpbusd zmm"};
  }
  if (__builtin_cpu_supports("avx2")) return {RunAvx2, kInt8PeakChains * 32.0, "vpmaddubsw+vpmaddwd ymm"};
  return {nullptr, 0, "none (no AVX2)"};
}

}  // namespace ember::cli
