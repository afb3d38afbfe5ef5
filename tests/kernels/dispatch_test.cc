#include "kernels/dispatch.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/attention_kernels.h"
#include "kernels/ops.h"
#include "kernels/q8_quantize_kernels.h"

namespace ember {
namespace {

constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod};

TEST(DispatchTest, LaddersOrderTheIsasOfOneArchitecture) {
  for (const Isa best : kAllIsas) {
    EXPECT_TRUE(IsaWithin(Isa::kScalar, best)) << IsaName(best);
    EXPECT_TRUE(IsaWithin(best, best)) << IsaName(best);
  }
  EXPECT_TRUE(IsaWithin(Isa::kAvx2, Isa::kAvx512));
  EXPECT_FALSE(IsaWithin(Isa::kAvx512, Isa::kAvx2));
  EXPECT_TRUE(IsaWithin(Isa::kNeon, Isa::kDotprod));
  EXPECT_FALSE(IsaWithin(Isa::kDotprod, Isa::kNeon));
  for (const Isa x86 : {Isa::kAvx2, Isa::kAvx512}) {
    for (const Isa arm : {Isa::kNeon, Isa::kDotprod}) {
      EXPECT_FALSE(IsaWithin(x86, arm)) << IsaName(x86) << " on " << IsaName(arm);
      EXPECT_FALSE(IsaWithin(arm, x86)) << IsaName(arm) << " on " << IsaName(x86);
    }
    EXPECT_FALSE(IsaWithin(x86, Isa::kScalar));
  }
  EXPECT_FALSE(IsaWithin(Isa::kNeon, Isa::kScalar));
}

TEST(DispatchTest, OverrideNeverExceedsTheCpu) {
  EXPECT_EQ(IsaFromOverride(nullptr, Isa::kAvx2), Isa::kAvx2);
  EXPECT_EQ(IsaFromOverride("scalar", Isa::kAvx512), Isa::kScalar);
  EXPECT_EQ(IsaFromOverride("avx2", Isa::kAvx512), Isa::kAvx2);
  EXPECT_EQ(IsaFromOverride("avx512", Isa::kAvx512), Isa::kAvx512);
  EXPECT_EQ(IsaFromOverride("avx512", Isa::kAvx2), Isa::kAvx2);
  EXPECT_EQ(IsaFromOverride("avx512", Isa::kScalar), Isa::kScalar);
  EXPECT_EQ(IsaFromOverride("neon", Isa::kAvx2), Isa::kAvx2);
  EXPECT_EQ(IsaFromOverride("bogus", Isa::kAvx512), Isa::kAvx512);
  // aarch64's ladder.
  EXPECT_EQ(IsaFromOverride(nullptr, Isa::kDotprod), Isa::kDotprod);
  EXPECT_EQ(IsaFromOverride("scalar", Isa::kDotprod), Isa::kScalar);
  EXPECT_EQ(IsaFromOverride("neon", Isa::kDotprod), Isa::kNeon);
  EXPECT_EQ(IsaFromOverride("dotprod", Isa::kDotprod), Isa::kDotprod);
  EXPECT_EQ(IsaFromOverride("dotprod", Isa::kNeon), Isa::kNeon);
  EXPECT_EQ(IsaFromOverride("dotprod", Isa::kScalar), Isa::kScalar);
  EXPECT_EQ(IsaFromOverride("neon", Isa::kScalar), Isa::kScalar);
  EXPECT_EQ(IsaFromOverride("avx512", Isa::kNeon), Isa::kNeon);
  EXPECT_EQ(IsaFromOverride("avx2", Isa::kDotprod), Isa::kDotprod);
}

TEST(DispatchTest, NamesRoundTrip) {
  for (const Isa isa : kAllIsas) {
    EXPECT_EQ(IsaFromOverride(std::string(IsaName(isa)).c_str(), isa), isa) << IsaName(isa);
  }
}

TEST(DispatchTest, RunnableIsasClimbOneLadder) {
  const std::vector<Isa> build = BuildIsas();
  ASSERT_EQ(build.size(), 3u);
  EXPECT_EQ(build[0], Isa::kScalar);
  EXPECT_TRUE(IsaWithin(build[1], build[2]));
  const std::vector<Isa> runnable = RunnableIsas();
  ASSERT_FALSE(runnable.empty());
  EXPECT_EQ(runnable.front(), Isa::kScalar);
  EXPECT_EQ(runnable.back(), DetectedIsa());
  for (size_t i = 0; i < runnable.size(); ++i) {
    EXPECT_EQ(runnable[i], build[i]);  // a prefix of the build's ladder
    EXPECT_TRUE(IsaRunnable(runnable[i]));
  }
  for (const Isa isa : kAllIsas) {
    EXPECT_EQ(IsaRunnable(isa), IsaWithin(isa, DetectedIsa())) << IsaName(isa);
  }
  EXPECT_TRUE(IsaRunnable(ActiveIsa()));
}

// The test command sets EMBER_TEST_EXPECT_DETECTED_ISA where it knows the CPU (e.g. under
// qemu-aarch64 with a chosen -cpu), so the run-time detection itself is checked.
TEST(DispatchTest, DetectsTheExpectedIsa) {
  const char* expected = std::getenv("EMBER_TEST_EXPECT_DETECTED_ISA");
  if (expected == nullptr) GTEST_SKIP() << "EMBER_TEST_EXPECT_DETECTED_ISA not set";
  EXPECT_EQ(IsaName(DetectedIsa()), expected);
  std::printf("detected %s, active %s\n", IsaName(DetectedIsa()).data(), IsaName(ActiveIsa()).data());
}

TEST(DispatchTest, SetActiveIsaChecksTheCpu) {
  const Isa saved = ActiveIsa();
  EXPECT_TRUE(IsaRunnable(saved));
  for (const Isa isa : kAllIsas) {
    const absl::Status s = SetActiveIsa(isa);
    EXPECT_EQ(s.ok(), IsaRunnable(isa)) << IsaName(isa);
    if (s.ok()) {
      EXPECT_EQ(ActiveIsa(), isa);
    }
  }
  ASSERT_TRUE(SetActiveIsa(saved).ok());
}

TEST(DispatchTest, EveryTableIsComplete) {
  for (const Isa isa : RunnableIsas()) {
    const KernelTable& k = KernelsFor(isa);
    EXPECT_NE(k.f32, nullptr);
    EXPECT_NE(k.f16, nullptr);
    EXPECT_NE(k.bf16, nullptr);
    for (const QuantKernel* q : {&k.q8_0, &k.q4_0, &k.q4_k, &k.q5_k, &k.q6_k}) EXPECT_NE(q->rows, nullptr);
    const AttentionKernelTable& a = AttentionKernelsFor(isa);
    for (const KvRowKernels* r : {&a.f32, &a.f16, &a.bf16}) {
      EXPECT_NE(r->dot, nullptr) << IsaName(isa);
      EXPECT_NE(r->accumulate, nullptr) << IsaName(isa);
      EXPECT_NE(r->store, nullptr) << IsaName(isa);
    }
    EXPECT_NE(a.exp_sum, nullptr) << IsaName(isa);
    EXPECT_NE(GeluNewFor(isa), nullptr) << IsaName(isa);
    EXPECT_NE(QuantizeQ8RowFor(isa), nullptr) << IsaName(isa);
  }
}

TEST(DispatchTest, SupportedTypesAreTheImplementedOnes) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K,
                  DType::kQ5_K, DType::kQ6_K}) {
    EXPECT_TRUE(Traits(t).supported) << Traits(t).name;
  }
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ2_K, DType::kQ3_K, DType::kQ8_K}) {
    EXPECT_FALSE(Traits(t).supported) << Traits(t).name;
  }
}

}  // namespace
}  // namespace ember
