// Greedy tokens of the F32 reference cases are unchanged on every ISA path: for each kernel
// ISA this CPU has (scalar, AVX2, AVX-512; on aarch64 scalar, NEON, dotprod), every F32 model, and the Q8_0 model in exact
// numerics, reproduces its reference logits within 1e-3 and its greedy continuation up to
// the reference's first step with a top1-top2 margin below 2e-3. The reference is the same
// for every ISA, so the ISA paths also agree with each other.
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "lib/model/model.h"
#include "tests/model/reference_check.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

constexpr float kTolerance = 1e-3f;
const char* const kCases[] = {"short", "long", "unicode", "code", "whitespace"};

struct IsaCase {
  Isa isa;
  std::string variant;  // reference file prefix, e.g. "tiny-llama2.f32"
  std::string model;    // GGUF file or HF directory under tests/data/models
  bool exact_q8 = false;  // Q8_0 weights, compared with dequantized_f32_reference
};

std::vector<IsaCase> AllIsaCases() {
  std::vector<IsaCase> out;
  for (const Isa isa : BuildIsas()) {
    out.push_back({isa, "stories260K", "stories260K.gguf"});
    out.push_back({isa, "tiny-llama2.f32", "tiny-llama2.f32.gguf"});
    out.push_back({isa, "tiny-phi2.f32", "tiny-phi2.f32.gguf"});
    out.push_back({isa, "tiny-mistral.f32", "tiny-mistral"});
    out.push_back({isa, "tiny-llama2.q8_0", "tiny-llama2.q8_0.gguf", /*exact_q8=*/true});
  }
  return out;
}

void PrintTo(const IsaCase& c, std::ostream* os) { *os << IsaName(c.isa) << " " << c.model; }

// Sets the kernel ISA and quantized numerics for one test and restores them afterwards.
class ScopedKernelChoice {
 public:
  ScopedKernelChoice() : isa_(ActiveIsa()), numerics_(ActiveQuantNumerics()) {}
  ~ScopedKernelChoice() {
    EXPECT_TRUE(SetActiveIsa(isa_).ok());
    SetQuantNumerics(numerics_);
  }

 private:
  Isa isa_;
  QuantNumerics numerics_;
};

class IsaGoldenTest : public ::testing::TestWithParam<IsaCase> {};

TEST_P(IsaGoldenTest, MatchesReferenceOnThisIsa) {
  const IsaCase& ic = GetParam();
  if (!IsaRunnable(ic.isa)) {
    GTEST_SKIP() << "this CPU has no " << IsaName(ic.isa) << " (best: " << IsaName(DetectedIsa())
                 << ")";
  }
  ScopedKernelChoice restore;
  ASSERT_TRUE(SetActiveIsa(ic.isa).ok());
  if (ic.exact_q8) SetQuantNumerics(QuantNumerics::kExact);
  // Loaded after the ISA is chosen, in case loading ever prepares ISA-specific layouts.
  auto model = Model::Load(TestDataPath("models/" + ic.model), {});
  ASSERT_TRUE(model.ok()) << model.status();

  for (const char* name : kCases) {
    const nlohmann::json c = ReadJson(TestDataPath("reference/" + ic.variant + "." + name + ".json"));
    ASSERT_TRUE(c.is_object()) << ic.variant << "." << name;
    ReferenceChoice choice;
    choice.ref = ic.exact_q8 ? &c["dequantized_f32_reference"] : &c;
    choice.tolerance = kTolerance;
    choice.greedy_exact_steps = FirstStepWithMarginBelow((*choice.ref)["greedy"], 2 * kTolerance);
    const CaseResult r = CheckReferenceCase(**model, c, choice);
    EXPECT_GT(r.greedy_steps_compared, 0) << ic.variant << "." << name;
    std::printf("[isa-golden] %-6s %-22s %-10s max|diff| prompt %.3g last %.3g greedy %.3g (%d steps)\n",
                IsaName(ic.isa).data(), ic.model.c_str(), name, r.max_prompt_diff, r.max_last_diff,
                r.max_greedy_diff, r.greedy_steps_compared);
  }
}

std::string ParamName(const ::testing::TestParamInfo<IsaCase>& info) {
  std::string name = std::string(IsaName(info.param.isa)) + "_" + info.param.model;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryIsa, IsaGoldenTest, ::testing::ValuesIn(AllIsaCases()), ParamName);

}  // namespace
}  // namespace ember::testing
