// MatMul on every ISA this machine has, against a float64 reference of the same numerics:
// int8 mode computes sum(dequantized w * dequantized Q8 activations), exact mode and float
// types sum(w * x). SIMD and scalar paths must agree with it (and with each other) up to
// float32 summation-order error, which is far below the effect of any wrong integer term.
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/q8_activation_buffer.h"
#include "kernels/row_panels.h"
#include "kernels/scalar/decode_row.h"

namespace ember {
namespace {

constexpr DType kQuantTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
constexpr DType kFloatTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

bool IsQuant(DType t) { return Traits(t).block_elems > 1; }

// Random rows: quantized types get random bytes (every code, including Q8_0's -128 and all
// 6-bit scales) with their fp16 scale fields replaced by sane values.
std::vector<uint8_t> RandomWeights(DType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  const int64_t row_bytes = RowBytes(type, cols);
  std::vector<uint8_t> data(static_cast<size_t>(rows * row_bytes));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  if (!IsQuant(type)) {
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float v = u(rng);
      if (type == DType::kF32) std::memcpy(&data[4 * i], &v, 4);
      const uint16_t h = type == DType::kF16 ? FloatToFp16(v) : FloatToBf16(v);
      if (type != DType::kF32) std::memcpy(&data[2 * i], &h, 2);
    }
    return data;
  }
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const int64_t block_bytes = Traits(type).block_bytes;
  auto put_half = [&](int64_t offset, float v) {
    const uint16_t h = FloatToFp16(v);
    std::memcpy(&data[offset], &h, 2);
  };
  for (int64_t off = 0; off < static_cast<int64_t>(data.size()); off += block_bytes) {
    switch (type) {
      case DType::kQ8_0:
      case DType::kQ4_0: put_half(off, 0.01f * u(rng)); break;
      case DType::kQ4_K:
      case DType::kQ5_K:
        put_half(off, 0.002f * std::fabs(u(rng)));
        put_half(off + 2, 0.002f * std::fabs(u(rng)));
        break;
      case DType::kQ6_K: put_half(off + 208, 0.001f * u(rng)); break;
      default: break;
    }
  }
  return data;
}

std::vector<float> RandomActivations(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = g(rng);
  return x;
}

// Reference y and the scale of its terms (sum of |term| with K-quant mins counted apart,
// since kernels accumulate scale and min parts separately).
struct Reference {
  std::vector<double> y, magnitude;
};

Reference ComputeReference(const WeightMatrix& w, const std::vector<float>& x, int64_t n_tokens,
                           bool quantize_x) {
  std::vector<float> xr = x;
  if (quantize_x) {
    Q8ActivationBuffer buf;
    buf.Quantize(x.data(), n_tokens, w.cols, 0, SerialParallel());
    for (int64_t i = 0; i < n_tokens * w.cols; ++i) xr[i] = buf.view().q[i] * buf.view().d[i / 32];
  }
  Reference ref;
  ref.y.assign(static_cast<size_t>(n_tokens * w.rows), 0.0);
  ref.magnitude.assign(ref.y.size(), 0.0);
  std::vector<float> row(static_cast<size_t>(w.cols)), mins(static_cast<size_t>(w.cols), 0.0f);
  std::vector<int8_t> vals(static_cast<size_t>(w.cols));
  std::vector<float> s16(static_cast<size_t>(w.cols / 16 + 1)), m32(static_cast<size_t>(w.cols / 32 + 1));
  for (int64_t r = 0; r < w.rows; ++r) {
    DequantizeRow(w, r, row.data());
    if (IsQuant(w.type)) {
      scalar::DecodeQuantRow(w.type, static_cast<const uint8_t*>(w.data) + r * w.row_bytes, w.cols,
                             vals.data(), s16.data(), m32.data());
      for (int64_t c = 0; c < w.cols; ++c) mins[c] = m32[c / 32];
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
      double acc = 0.0, mag = 0.0;
      for (int64_t c = 0; c < w.cols; ++c) {
        const double xv = xr[t * w.cols + c];
        acc += static_cast<double>(row[c]) * xv;
        mag += (std::fabs(static_cast<double>(row[c])) + 2.0 * std::fabs(mins[c])) * std::fabs(xv);
      }
      ref.y[t * w.rows + r] = acc;
      ref.magnitude[t * w.rows + r] = mag;
    }
  }
  return ref;
}

std::vector<Isa> AvailableIsas() { return RunnableIsas(); }

// Restores the process-wide kernel settings after each test.
class MatMulTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ASSERT_TRUE(SetActiveIsa(saved_isa_).ok());
    SetQuantNumerics(saved_numerics_);
  }
  Isa saved_isa_ = ActiveIsa();
  QuantNumerics saved_numerics_ = ActiveQuantNumerics();
};

// Relative bound on float32 summation-order error; one wrong product in a row of <= 768
// values moves y by ~1e-3 of the magnitude, 100x more.
constexpr double kRelTol = 1e-5;

// A 64-byte aligned buffer holding `w` in the row-panel layout (packed by the scalar
// reference packer), and the matrix viewing it.
struct PanelCopy {
  explicit PanelCopy(const WeightMatrix& w)
      : storage(static_cast<size_t>(RowPanelsBytes(w.type, w.rows, w.cols) + 64)),
        data(storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64) {
    scalar::PackRowPanels(w, 0, PanelCount(w.rows), data);
    matrix = w;
    matrix.data = data;
    matrix.layout = WeightLayout::kRowPanels16;
  }
  std::vector<uint8_t> storage;
  uint8_t* data;
  WeightMatrix matrix;
};

void CheckAllShapes(DType type, QuantNumerics numerics, const std::vector<int64_t>& col_sizes,
                    const std::vector<int64_t>& row_sizes = {1, 5, 17, 37},
                    const std::vector<int64_t>& token_counts = {1, 2, 3, 4, 5, 6, 7, 8, 9},
                    WeightLayout layout = WeightLayout::kRows) {
  std::mt19937 rng(1234 + static_cast<int>(type));
  SetQuantNumerics(numerics);
  const bool quantize_x = IsQuant(type) && numerics == QuantNumerics::kInt8;
  for (int64_t cols : col_sizes) {
    for (int64_t rows : row_sizes) {
      const auto data = RandomWeights(type, rows, cols, rng);
      const WeightMatrix w{type, rows, cols, data.data(), RowBytes(type, cols)};
      std::unique_ptr<PanelCopy> panels;
      if (layout == WeightLayout::kRowPanels16) panels = std::make_unique<PanelCopy>(w);
      const WeightMatrix& w_run = panels ? panels->matrix : w;
      for (int64_t n_tokens : token_counts) {
        const auto x = RandomActivations(n_tokens * cols, rng);
        const Reference ref = ComputeReference(w, x, n_tokens, quantize_x);
        std::vector<float> y_scalar;
        for (Isa isa : AvailableIsas()) {
          ASSERT_TRUE(SetActiveIsa(isa).ok());
          std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN);
          MatMul(w_run, x.data(), n_tokens, y.data(), SerialParallel());
          if (isa == Isa::kScalar) y_scalar = y;
          for (size_t i = 0; i < y.size(); ++i) {
            const double tol = kRelTol * ref.magnitude[i] + 1e-30;
            ASSERT_NEAR(y[i], ref.y[i], tol) << Traits(type).name << " " << IsaName(isa) << " rows " << rows
                                             << " cols " << cols << " tokens " << n_tokens << " i " << i;
            ASSERT_NEAR(y[i], y_scalar[i], tol) << Traits(type).name << " " << IsaName(isa) << " vs scalar";
          }
        }
      }
    }
  }
}

TEST_F(MatMulTest, FloatTypesAllIsas) {
  for (DType type : kFloatTypes) CheckAllShapes(type, QuantNumerics::kInt8, {1, 15, 16, 17, 33, 100, 256});
}

TEST_F(MatMulTest, Int8Q8_0AndQ4_0AllIsas) {
  // 1 and 3 blocks: odd block counts leave half a 64-value step.
  for (DType type : {DType::kQ8_0, DType::kQ4_0}) CheckAllShapes(type, QuantNumerics::kInt8, {32, 64, 96, 288});
}

// Prefill shapes for the AVX-512 panel kernel: partial 32-row panels and 16-row halves,
// token tails of its 6-token tile, and more blocks than one 24-block K chunk.
TEST_F(MatMulTest, Int8Q8_0AndQ4_0PrefillAllIsas) {
  for (DType type : {DType::kQ8_0, DType::kQ4_0}) {
    CheckAllShapes(type, QuantNumerics::kInt8, {32, 800, 1600}, {3, 16, 33, 70}, {4, 13, 31});
  }
}

// The same shapes with the weights in the load-time row-panel layout: partial 16-row
// panels, decode (1-3 tokens) and the prefill panel kernel, in both numerics.
TEST_F(MatMulTest, RowPanelsAllIsas) {
  for (DType type : {DType::kQ8_0, DType::kQ4_0}) {
    CheckAllShapes(type, QuantNumerics::kInt8, {32, 64, 96, 288}, {1, 5, 16, 17, 37},
                   {1, 2, 3, 4, 5, 6, 7, 8, 9}, WeightLayout::kRowPanels16);
    CheckAllShapes(type, QuantNumerics::kInt8, {800}, {3, 33, 70}, {1, 13}, WeightLayout::kRowPanels16);
    CheckAllShapes(type, QuantNumerics::kExact, {256}, {1, 17}, {1, 5}, WeightLayout::kRowPanels16);
  }
}

// K-quants in row panels: partial panels, 1-3 super-blocks (decode, 1-3 tokens) and the
// prefill unpacking (a second 16-row panel or none, more blocks than one 24-block K chunk,
// token tails of the 6-token tile), in both numerics.
TEST_F(MatMulTest, KQuantRowPanelsAllIsas) {
  for (DType type : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    CheckAllShapes(type, QuantNumerics::kInt8, {256, 512, 768}, {1, 5, 16, 17, 37},
                   {1, 2, 3, 4, 5, 6, 7, 8, 9}, WeightLayout::kRowPanels16);
    CheckAllShapes(type, QuantNumerics::kInt8, {1024}, {3, 33, 70}, {1, 13}, WeightLayout::kRowPanels16);
    CheckAllShapes(type, QuantNumerics::kExact, {256}, {1, 17}, {1, 5}, WeightLayout::kRowPanels16);
  }
}

// Every ISA's packer writes the scalar packer's bytes, and ReadPanelRow gives back the
// file's rows exactly (padding rows included in the comparison of whole buffers).
TEST_F(MatMulTest, RowPanelPackersAgreeAndRoundTrip) {
  std::mt19937 rng(77);
  for (DType type : kQuantTypes) {
    const bool k_quant = Traits(type).block_elems == 256;
    for (int64_t rows : {1, 15, 16, 17, 50}) {
      for (int64_t cols : k_quant ? std::vector<int64_t>{256, 768, 1280} : std::vector<int64_t>{32, 96, 544}) {
        const auto data = RandomWeights(type, rows, cols, rng);
        const WeightMatrix w{type, rows, cols, data.data(), RowBytes(type, cols)};
        const PanelCopy reference(w);
        std::vector<uint8_t> row(static_cast<size_t>(w.row_bytes));
        for (int64_t r = 0; r < rows; ++r) {
          ReadPanelRow(reference.matrix, r, row.data());
          ASSERT_EQ(0, std::memcmp(row.data(), data.data() + r * w.row_bytes, row.size()))
              << Traits(type).name << " row " << r;
        }
        const size_t bytes = static_cast<size_t>(RowPanelsBytes(type, rows, cols));
        for (Isa isa : AvailableIsas()) {
          ASSERT_TRUE(SetActiveIsa(isa).ok());
          std::vector<uint8_t> storage(bytes + 64, 0xAB);
          uint8_t* dst = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
          const WeightMatrix packed = PackRowPanels(w, dst);
          EXPECT_EQ(packed.layout, WeightLayout::kRowPanels16);
          ASSERT_EQ(0, std::memcmp(dst, reference.data, bytes))
              << Traits(type).name << " " << IsaName(isa) << " rows " << rows << " cols " << cols;
        }
      }
    }
  }
}

TEST_F(MatMulTest, Int8KQuantsAllIsas) {
  for (DType type : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    CheckAllShapes(type, QuantNumerics::kInt8, {256, 768});
  }
}

TEST_F(MatMulTest, ExactNumericsAllIsas) {
  for (DType type : kQuantTypes) CheckAllShapes(type, QuantNumerics::kExact, {256});
}

// Saturated codes: every byte of the blocks but their fp16 scales set to 0x00, 0x7F, 0x80 or
// 0xFF (so the K-quant 6-bit scales and Q6_K's int8 scales too), against activations of one
// sign and magnitude (every |q_x| = 127): the largest integer sums any kernel's narrow
// stages must hold (the NEON kernels keep two or four int8 products per int16 lane).
TEST_F(MatMulTest, ExtremeCodesAllIsas) {
  std::mt19937 rng(99);
  SetQuantNumerics(QuantNumerics::kInt8);
  for (DType type : kQuantTypes) {
    const int64_t rows = 5, cols = Traits(type).block_elems == 256 ? 512 : 96;
    const int64_t block_bytes = Traits(type).block_bytes;
    for (const uint8_t fill : {uint8_t{0x00}, uint8_t{0x7F}, uint8_t{0x80}, uint8_t{0xFF}}) {
      // All-zero Q8_0 weights are no extreme, and their exact 0 has no magnitude to bound the
      // rounding of the offset kernels' per-lane terms (o * q_x), which need not cancel.
      if (type == DType::kQ8_0 && fill == 0x00) continue;
      auto data = RandomWeights(type, rows, cols, rng);
      for (size_t i = 0; i < data.size(); ++i) {
        const int64_t in_block = static_cast<int64_t>(i) % block_bytes;
        const bool fp16_field = type == DType::kQ6_K ? in_block >= 208
                                : (type == DType::kQ4_K || type == DType::kQ5_K) ? in_block < 4
                                                                                  : in_block < 2;
        if (!fp16_field) data[i] = fill;
      }
      const WeightMatrix w{type, rows, cols, data.data(), RowBytes(type, cols)};
      for (const float sign : {1.0f, -1.0f}) {
        const int64_t n_tokens = 3;
        const std::vector<float> x(static_cast<size_t>(n_tokens * cols), sign * 0.75f);
        const Reference ref = ComputeReference(w, x, n_tokens, /*quantize_x=*/true);
        std::vector<float> y_scalar;
        for (Isa isa : AvailableIsas()) {
          ASSERT_TRUE(SetActiveIsa(isa).ok());
          std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN);
          MatMul(w, x.data(), n_tokens, y.data(), SerialParallel());
          if (isa == Isa::kScalar) y_scalar = y;
          for (size_t i = 0; i < y.size(); ++i) {
            const double tol = kRelTol * ref.magnitude[i] + 1e-30;
            ASSERT_NEAR(y[i], ref.y[i], tol) << Traits(type).name << " " << IsaName(isa) << " fill " << +fill
                                             << " sign " << sign << " i " << i;
            ASSERT_NEAR(y[i], y_scalar[i], tol) << Traits(type).name << " " << IsaName(isa) << " vs scalar";
          }
        }
      }
    }
  }
}

// Activation quantization rounds half to even (as std::nearbyint), ties included.
TEST(QuantizeQ8BlockTest, RoundsHalfToEven) {
  float x[32] = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.49f, -3.51f};
  int8_t q[32];
  const float d = QuantizeQ8Block(x, q);  // amax 127: q = round(x)
  EXPECT_EQ(d, 1.0f);
  const int8_t want[11] = {127, 0, 2, 2, 0, -2, -2, 126, -126, 3, -4};
  for (int i = 0; i < 11; ++i) EXPECT_EQ(q[i], want[i]) << "x = " << x[i];
  for (int i = 11; i < 32; ++i) EXPECT_EQ(q[i], 0);
}

// The int8 path must really quantize activations: against exact numerics it differs by
// far more than rounding noise on random data.
TEST_F(MatMulTest, Int8AndExactDiffer) {
  std::mt19937 rng(5);
  const auto data = RandomWeights(DType::kQ8_0, 8, 256, rng);
  const WeightMatrix w{DType::kQ8_0, 8, 256, data.data(), RowBytes(DType::kQ8_0, 256)};
  const auto x = RandomActivations(256, rng);
  std::vector<float> y_int8(8), y_exact(8);
  SetQuantNumerics(QuantNumerics::kInt8);
  MatMul(w, x.data(), 1, y_int8.data(), SerialParallel());
  SetQuantNumerics(QuantNumerics::kExact);
  MatMul(w, x.data(), 1, y_exact.data(), SerialParallel());
  const Reference ref = ComputeReference(w, x, 1, false);
  double max_diff = 0.0;
  for (int i = 0; i < 8; ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(y_int8[i]) - y_exact[i]));
    EXPECT_NEAR(y_exact[i], ref.y[i], kRelTol * ref.magnitude[i]);
  }
  EXPECT_GT(max_diff, 1e-4 * ref.magnitude[0]);
}

// A Parallel that cuts [0, n) into uneven chunks and runs them in reverse order.
class ChoppyParallel final : public Parallel {
 public:
  int n_threads() const override { return 3; }
  void For(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn) override {
    const int64_t cuts[] = {n, n * 2 / 3, n / 5, 0};
    for (int i = 0; i < 3; ++i) {
      if (cuts[i + 1] < cuts[i]) fn(cuts[i + 1], cuts[i]);
    }
  }
};

// Row-panel matrices included: a thread's share may start at an odd 16-row panel, which
// shifts the prefill kernels' 32-row tiles but not any row's arithmetic.
TEST_F(MatMulTest, ThreadSplitDoesNotChangeResults) {
  std::mt19937 rng(9);
  ChoppyParallel choppy;
  for (DType type : {DType::kF16, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    const int64_t rows = 83, cols = 512;
    const auto data = RandomWeights(type, rows, cols, rng);
    const WeightMatrix w{type, rows, cols, data.data(), RowBytes(type, cols)};
    std::unique_ptr<PanelCopy> panels;
    if (RowPanelsSupported(type)) panels = std::make_unique<PanelCopy>(w);
    std::vector<const WeightMatrix*> layouts = {&w};
    if (panels) layouts.push_back(&panels->matrix);
    for (const WeightMatrix* m : layouts) {
      for (int64_t n_tokens : {1, 7}) {
        const auto x = RandomActivations(n_tokens * cols, rng);
        std::vector<float> a(n_tokens * rows), b(n_tokens * rows);
        MatMul(*m, x.data(), n_tokens, a.data(), SerialParallel());
        MatMul(*m, x.data(), n_tokens, b.data(), choppy);
        EXPECT_EQ(a, b) << Traits(type).name << (m == &w ? "" : " row panels");
      }
    }
  }
}

// Row exactness (kernels/kernel_table.h), which batched decode relies on: every token's
// row of MatMulRowExact, and of MatMul (up to kRowExactMaxTokens, and for any count where
// kernels/matmul.h promises it), is bit-identical to a one-token MatMul of that token, on
// every ISA, type, layout and numerics, also when a thread's share starts mid-matrix. 8192
// columns make the AVX-512 token groups walk several L2 chunks per thread and the prefill
// GEMMs several K chunks (the only kernels that chunk; kept to them for speed).
TEST_F(MatMulTest, RowExactOnEveryIsa) {
  std::mt19937 rng(4242);
  ChoppyParallel choppy;
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K,
                     DType::kQ5_K, DType::kQ6_K}) {
    for (const int64_t cols : {int64_t{512}, int64_t{8192}}) {
      const int64_t rows = 83;
      const auto data = RandomWeights(type, rows, cols, rng);
      const WeightMatrix w{type, rows, cols, data.data(), RowBytes(type, cols)};
      std::unique_ptr<PanelCopy> panels;
      if (RowPanelsSupported(type)) panels = std::make_unique<PanelCopy>(w);
      std::vector<const WeightMatrix*> layouts = {&w};
      if (panels) layouts.push_back(&panels->matrix);
      for (const QuantNumerics numerics : {QuantNumerics::kInt8, QuantNumerics::kExact}) {
        if (numerics == QuantNumerics::kExact && !IsQuant(type)) continue;
        SetQuantNumerics(numerics);
        for (Isa isa : AvailableIsas()) {
          if (cols > 512 && (isa != Isa::kAvx512 || numerics == QuantNumerics::kExact)) continue;
          ASSERT_TRUE(SetActiveIsa(isa).ok());
          for (const WeightMatrix* m : layouts) {
            for (const int64_t n_tokens : cols == 512 ? std::vector<int64_t>{2, 3, 4, 5, 8, 9, 13}
                                                      : std::vector<int64_t>{5, 9, 13}) {
              const auto x = RandomActivations(n_tokens * cols, rng);
              std::vector<float> alone(static_cast<size_t>(n_tokens * rows));
              for (int64_t t = 0; t < n_tokens; ++t) {
                MatMul(*m, x.data() + t * cols, 1, alone.data() + t * rows, SerialParallel());
              }
              std::vector<float> stacked(alone.size(), NAN), small(alone.size(), NAN);
              MatMulRowExact(*m, x.data(), n_tokens, stacked.data(), choppy);
              const std::string what = std::string(Traits(type).name) + (m == &w ? "" : " row panels") + " " +
                                       std::string(IsaName(isa)) + " cols " + std::to_string(cols) +
                                       " tokens " + std::to_string(n_tokens) +
                                       (numerics == QuantNumerics::kExact ? " exact" : "");
              ASSERT_EQ(0, std::memcmp(stacked.data(), alone.data(), alone.size() * sizeof(float))) << what;
              // MatMul keeps it for every token count (kernels/matmul.h) except where
              // AVX-512 prefill of row-layout Q8_0 / Q4_0 takes the panel GEMM.
              const bool row_layout_gemm = isa == Isa::kAvx512 && m == &w && numerics == QuantNumerics::kInt8 &&
                                           (type == DType::kQ8_0 || type == DType::kQ4_0);
              if (n_tokens <= kRowExactMaxTokens || !row_layout_gemm) {
                MatMul(*m, x.data(), n_tokens, small.data(), SerialParallel());
                ASSERT_EQ(0, std::memcmp(small.data(), alone.data(), alone.size() * sizeof(float))) << what;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace ember
