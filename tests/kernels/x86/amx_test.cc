// The AMX-BF16 prefill GEMM against a float64 reference that rounds exactly as the kernel
// does: each weight the scalar dequantizer's float32 value rounded to bf16 (nearest even), each
// activation bf16(x). What is left is float32 accumulation error, bounded by
// cols * 2^-23 * sum |w x| — orders of magnitude below the effect of one wrong product.
// Machines without AMX (or without permission to use it) skip.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/amx/amx_bf16_gemm.h"
#include "kernels/dispatch.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/row_panels.h"
#include "kernels/scalar/decode_row.h"

namespace ember {
namespace {

// Random codes (every byte pattern, including all 6-bit scales) with sane fp16 scales.
std::vector<uint8_t> RandomQuantRows(DType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::vector<uint8_t> data(static_cast<size_t>(rows * RowBytes(type, cols)));
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto put_half = [&](size_t offset, float v) {
    const uint16_t h = FloatToFp16(v);
    std::memcpy(&data[offset], &h, 2);
  };
  for (size_t off = 0; off < data.size(); off += static_cast<size_t>(Traits(type).block_bytes)) {
    switch (type) {
      case DType::kQ4_K:
      case DType::kQ5_K:
        put_half(off, 0.002f * std::fabs(u(rng)));
        put_half(off + 2, 0.002f * std::fabs(u(rng)));
        break;
      case DType::kQ6_K: put_half(off + 208, 0.001f * u(rng)); break;
      default: put_half(off, 0.01f * u(rng)); break;
    }
  }
  return data;
}

float RoundBf16(float v) { return Bf16ToFloat(FloatToBf16(v)); }

template <typename T>
struct Aligned {
  explicit Aligned(size_t bytes) : storage(bytes + 64) {}
  T* get() {
    return reinterpret_cast<T*>(storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64);
  }
  std::vector<uint8_t> storage;
};

class AmxBf16Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsaRunnable(Isa::kAvx512)) GTEST_SKIP() << "no AVX-512";
    ASSERT_TRUE(SetActiveIsa(Isa::kAvx512).ok());
    if (!AmxUsable()) GTEST_SKIP() << "this CPU / OS / process cannot use AMX";
  }
  void TearDown() override {
    SetAmxAllowed(true);
    ASSERT_TRUE(SetActiveIsa(saved_isa_).ok());
  }
  Isa saved_isa_ = ActiveIsa();
};

TEST_F(AmxBf16Test, MatchesBf16RoundedReference) {
  std::mt19937 rng(2024);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (DType type : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const bool k_quant = Traits(type).block_elems == 256;
    for (int64_t cols : k_quant ? std::vector<int64_t>{256, 1280, 2560} : std::vector<int64_t>{32, 800, 2560}) {
      for (int64_t rows : {16, 33, 70}) {
        const auto data = RandomQuantRows(type, rows, cols, rng);
        const WeightMatrix w{type, rows, cols, data.data(), RowBytes(type, cols)};
        Aligned<uint8_t> panel_storage(static_cast<size_t>(RowPanelsBytes(type, rows, cols)));
        const WeightMatrix panels = PackRowPanels(w, panel_storage.get());
        // Weights as the kernel rounds them: the scalar dequantizer's float32 value
        // (integer times scale, minus min), rounded to bf16.
        std::vector<float> wr(static_cast<size_t>(rows * cols));
        std::vector<int8_t> vals(static_cast<size_t>(cols));
        std::vector<float> s16(static_cast<size_t>(cols / 16)), m32(static_cast<size_t>(cols / 32));
        for (int64_t r = 0; r < rows; ++r) {
          scalar::DecodeQuantRow(type, data.data() + r * w.row_bytes, cols, vals.data(), s16.data(), m32.data());
          for (int64_t c = 0; c < cols; ++c) {
            wr[r * cols + c] = RoundBf16(static_cast<float>(vals[c]) * s16[c / 16] - m32[c / 32]);
          }
        }
        for (int64_t n_tokens : {1, 16, 31, 32, 45}) {
          std::vector<float> x(static_cast<size_t>(n_tokens * cols));
          for (float& v : x) v = g(rng);
          Aligned<uint16_t> packed(static_cast<size_t>(amx::Bf16ActivationBytes(n_tokens, cols)));
          amx::PackActivationsBf16(x.data(), n_tokens, cols, packed.get());
          for (const WeightMatrix* m : {&w, &panels}) {
            std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN);
            // Two thread shares, as MatMul hands out 16-row units.
            const int64_t split = rows > 16 ? 16 : rows;
            amx::Bf16Gemm(*m, 0, split, packed.get(), n_tokens, y.data(), rows);
            amx::Bf16Gemm(*m, split, rows, packed.get(), n_tokens, y.data(), rows);
            for (int64_t t = 0; t < n_tokens; ++t) {
              for (int64_t r = 0; r < rows; ++r) {
                double ref = 0.0, mag = 0.0;
                for (int64_t c = 0; c < cols; ++c) {
                  const double p = static_cast<double>(wr[r * cols + c]) * RoundBf16(x[t * cols + c]);
                  ref += p;
                  mag += std::fabs(p);
                }
                const double tol = static_cast<double>(cols) * std::ldexp(1.0, -23) * mag + 1e-30;
                ASSERT_NEAR(y[t * rows + r], ref, tol)
                    << Traits(type).name << (m == &panels ? " panels" : " rows") << " rows " << rows << " cols "
                    << cols << " tokens " << n_tokens << " t " << t << " r " << r;
              }
            }
          }
        }
      }
    }
  }
}

TEST_F(AmxBf16Test, SwitchAndIsaTurnItOff) {
  SetAmxAllowed(false);
  EXPECT_FALSE(AmxUsable());
  SetAmxAllowed(true);
  EXPECT_TRUE(AmxUsable());
  ASSERT_TRUE(SetActiveIsa(Isa::kAvx2).ok());
  EXPECT_FALSE(AmxUsable()) << "AMX belongs to the AVX-512 kernels";
}

}  // namespace
}  // namespace ember
