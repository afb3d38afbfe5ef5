#include "kernels/dispatch.h"

#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(DispatchTest, OverrideNeverExceedsTheCpu) {
  EXPECT_EQ(IsaFromOverride(nullptr, Isa::kAvx2), Isa::kAvx2);
  EXPECT_EQ(IsaFromOverride("scalar", Isa::kAvx512), Isa::kScalar);
  EXPECT_EQ(IsaFromOverride("avx2", Isa::kAvx512), Isa::kAvx2);
  EXPECT_EQ(IsaFromOverride("avx512", Isa::kAvx512), Isa::kAvx512);
  EXPECT_EQ(IsaFromOverride("avx512", Isa::kAvx2), Isa::kAvx2);
  EXPECT_EQ(IsaFromOverride("avx512", Isa::kScalar), Isa::kScalar);
  EXPECT_EQ(IsaFromOverride("neon", Isa::kAvx2), Isa::kAvx2);
}

TEST(DispatchTest, SetActiveIsaChecksTheCpu) {
  const Isa saved = ActiveIsa();
  EXPECT_LE(saved, DetectedIsa());
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    const absl::Status s = SetActiveIsa(isa);
    EXPECT_EQ(s.ok(), isa <= DetectedIsa()) << IsaName(isa);
    if (s.ok()) {
      EXPECT_EQ(ActiveIsa(), isa);
    }
  }
  ASSERT_TRUE(SetActiveIsa(saved).ok());
}

TEST(DispatchTest, EveryTableIsComplete) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa > DetectedIsa()) continue;
    const KernelTable& k = KernelsFor(isa);
    EXPECT_NE(k.f32, nullptr);
    EXPECT_NE(k.f16, nullptr);
    EXPECT_NE(k.bf16, nullptr);
    for (const QuantKernel* q : {&k.q8_0, &k.q4_0, &k.q4_k, &k.q5_k, &k.q6_k}) EXPECT_NE(q->rows, nullptr);
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
