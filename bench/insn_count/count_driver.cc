// Instruction-count driver (bench/insn_count/count.sh, bench/README.md ARM64 section): runs
// one kernel table's quantized row kernel REPS times on 16 rows x COLS columns and TOKENS
// tokens, after quantizing the activations once; two runs differing only in REPS give one
// call's instruction count. Not part of the CMake build: compile it against a build's
// libember_kernels.a (and its Abseil / ember_base dependencies), e.g.
//   g++ -std=c++20 -O2 -I. -Iinclude bench/insn_count/count_driver.cc build/kernels/libember_kernels.a ...
//
//   count_driver TABLE TYPE COLS TOKENS REPS
//     TABLE  x86-64: scalar, avx2, avx512, avx512p (AVX-512 on the row-panel layout);
//            aarch64: neon, dotprod
//     TYPE   q8_0, q4_0, q4_k, q5_k, q6_k
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/q8_quantize_kernels.h"
#if !defined(__aarch64__)
#include "kernels/row_panels.h"
#endif

using namespace ember;
constexpr int64_t kColsMax = 8192, kRows = 16;

int main(int argc, char** argv) {
  if (argc != 6) return 2;
  const std::string table = argv[1], tname = argv[2];
  const int64_t cols = atoll(argv[3]), tokens = atoll(argv[4]), reps = atoll(argv[5]);
  const KernelTable* k = nullptr;
#if defined(__aarch64__)
  k = table == "neon" ? &NeonKernels() : &NeonDotprodKernels();
#else
  k = table == "avx2" ? &Avx2Kernels() : table.rfind("avx512", 0) == 0 ? &Avx512Kernels() : &ScalarKernels();
#endif
  DType type = tname == "q8_0" ? DType::kQ8_0 : tname == "q4_0" ? DType::kQ4_0 : tname == "q4_k" ? DType::kQ4_K
             : tname == "q5_k" ? DType::kQ5_K : DType::kQ6_K;
  const QuantKernel& qk = type == DType::kQ8_0 ? k->q8_0 : type == DType::kQ4_0 ? k->q4_0 : type == DType::kQ4_K ? k->q4_k
                        : type == DType::kQ5_K ? k->q5_k : k->q6_k;
  std::mt19937 rng(1);
  const int64_t max_row_bytes = RowBytes(type, kColsMax);
  std::vector<uint8_t> data(kRows * max_row_bytes);
  for (auto& b : data) b = static_cast<uint8_t>(rng() & 0x11);  // scales stay tiny and finite
  std::vector<float> x(tokens * kColsMax);
  for (auto& v : x) v = static_cast<float>(rng() % 1000) / 500.0f - 1.0f;
  const int64_t nb = cols / 32;
  std::vector<int8_t> q(tokens * cols);
  std::vector<float> d(tokens * nb), dsum(tokens * nb), d8(tokens * nb * 8);
  std::vector<int32_t> sum16(tokens * nb * 2), bias8(tokens * nb * 8), bias1(tokens * nb);
  for (int64_t t = 0; t < tokens; ++t) {
    Q8RowOut out{q.data() + t * cols, d.data() + t * nb, dsum.data() + t * nb, sum16.data() + 2 * t * nb,
                 d8.data() + 8 * t * nb, bias8.data() + 8 * t * nb, bias1.data() + t * nb};
    QuantizeQ8RowScalar(x.data() + t * cols, nb, qk.weight_offset, out);
  }
  Q8ActivationsView view{tokens, cols, nb, qk.weight_offset, q.data(), d.data(), sum16.data(),
                         dsum.data(), d8.data(), bias8.data(), bias1.data()};
  WeightMatrix w{type, kRows, cols, data.data(), RowBytes(type, cols)};
  const QuantKernel* run = &qk;
#if !defined(__aarch64__)
  // TABLE avx512p: the row-panel layout AVX-512 loads use (packed by the scalar packer).
  std::vector<uint8_t> packed;
  if (table == "avx512p") {
    packed.resize(RowPanelsBytes(type, kRows, cols) + 64);
    uint8_t* dst = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
    scalar::PackRowPanels(w, 0, PanelCount(kRows), dst);
    w.data = dst;
    w.layout = WeightLayout::kRowPanels16;
    run = type == DType::kQ8_0 ? &k->q8_0_panels : type == DType::kQ4_0 ? &k->q4_0_panels
        : type == DType::kQ4_K ? &k->q4_k_panels : type == DType::kQ5_K ? &k->q5_k_panels : &k->q6_k_panels;
  }
#endif
  std::vector<float> y(tokens * kRows);
  double s = 0;
  for (int64_t i = 0; i < reps; ++i) {
    run->rows(w, 0, kRows, view, y.data(), kRows);
    s += y[0];
  }
  printf("%g\n", s);
  return 0;
}
