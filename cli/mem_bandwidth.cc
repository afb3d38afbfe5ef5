#include "cli/mem_bandwidth.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lib/base/platform.h"
#include "lib/runtime/thread_pool.h"

namespace ember::cli {
namespace {

constexpr size_t kChunk = size_t{1} << 20;  // work unit handed to threads

// XOR-folds a 64-byte-aligned range; the result only exists so the loads cannot be elided.
__attribute__((target("avx512f"))) uint64_t ReadAvx512(const uint8_t* p, size_t n) {
  __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
  for (size_t i = 0; i < n; i += 256) {
    a = _mm512_xor_si512(a, _mm512_load_si512(p + i));
    b = _mm512_xor_si512(b, _mm512_load_si512(p + i + 64));
    c = _mm512_xor_si512(c, _mm512_load_si512(p + i + 128));
    d = _mm512_xor_si512(d, _mm512_load_si512(p + i + 192));
  }
  a = _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d));
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, a);
  return lanes[0] ^ lanes[7];
}

uint64_t ReadSse2(const uint8_t* p, size_t n) {
  __m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
  for (size_t i = 0; i < n; i += 64) {
    a = _mm_xor_si128(a, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i)));
    b = _mm_xor_si128(b, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 16)));
    c = _mm_xor_si128(c, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 32)));
    d = _mm_xor_si128(d, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 48)));
  }
  a = _mm_xor_si128(_mm_xor_si128(a, b), _mm_xor_si128(c, d));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(a));
}

}  // namespace

double MeasureReadBandwidth(int threads, size_t bytes, int passes) {
  bytes = std::max(kChunk, bytes / kChunk * kChunk);
  // 2 MiB alignment plus huge pages (AdviseHugePages): touching 1 GiB costs 512 faults
  // instead of 262144.
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(size_t{2} << 20, bytes));
  if (buf == nullptr) return 0.0;
  AdviseHugePages(buf, bytes);
  ThreadPool pool(threads);
  const int64_t n_chunks = static_cast<int64_t>(bytes / kChunk);
  // First touch from the threads that will read (pages land on their node).
  pool.For(n_chunks, [&](int64_t begin, int64_t end) {
    std::memset(buf + begin * kChunk, 1, static_cast<size_t>(end - begin) * kChunk);
  });
  const bool avx512 = __builtin_cpu_supports("avx512f");
  std::atomic<uint64_t> sink{0};
  std::vector<double> rates;
  for (int pass = 0; pass < std::max(1, passes); ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.For(n_chunks, [&](int64_t begin, int64_t end) {
      const uint8_t* p = buf + begin * kChunk;
      const size_t n = static_cast<size_t>(end - begin) * kChunk;
      sink.fetch_xor(avx512 ? ReadAvx512(p, n) : ReadSse2(p, n), std::memory_order_relaxed);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(static_cast<double>(bytes) / s);
  }
  std::free(buf);
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace ember::cli
