// Speculative decoding by prompt lookup (lib/runtime/speculation.h, GenerateOptions::lookup):
// the draft search itself, then the guarantee that matters: a generation with lookup gives
// exactly the token ids, text, stop reason and final session state (tokens and last logits,
// bit for bit) of the same generation without it: greedy and sampled, with repetition
// penalties, stop strings, stop tokens, token limits and a grammar, on every tiny
// architecture and weight type, on every kernel ISA this CPU has (stories260K; the tiny
// models on the best ISA). And that drafts really
// are confirmed when the text repeats its context (stories260K re-telling a story).
#include "lib/runtime/speculation.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/runtime/generator.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(PromptLookupDraftTest, TakesWhatFollowedTheLatestLongestMatch) {
  // Context ends in 7 8 9: the 3-gram occurs at 1 (followed by 4 5) and at 6 (followed by 1 2).
  const std::vector<int32_t> ctx = {0, 7, 8, 9, 4, 5, 7, 8, 9, 1, 2, 3, 7, 8, 9};
  EXPECT_THAT(PromptLookupDraft(ctx, 2), ElementsAre(1, 2));
  EXPECT_THAT(PromptLookupDraft(ctx, 5), ElementsAre(1, 2, 3, 7, 8));
  EXPECT_THAT(PromptLookupDraft(ctx, 0), IsEmpty());
}

TEST(PromptLookupDraftTest, FallsBackToShorterNgrams) {
  // No earlier "5 6" or "4 5 6"; the 1-gram 6 occurred at 2.
  EXPECT_THAT(PromptLookupDraft(std::vector<int32_t>{1, 2, 6, 3, 4, 5, 6}, 3), ElementsAre(3, 4, 5));
  // Nothing matches at all.
  EXPECT_THAT(PromptLookupDraft(std::vector<int32_t>{1, 2, 3}, 3), IsEmpty());
  // A match needs a token after it; a one-token context has none.
  EXPECT_THAT(PromptLookupDraft(std::vector<int32_t>{4}, 3), IsEmpty());
  EXPECT_THAT(PromptLookupDraft(std::vector<int32_t>{}, 3), IsEmpty());
  // The draft stops at the end of the context.
  EXPECT_THAT(PromptLookupDraft(std::vector<int32_t>{5, 9, 5}, 4), ElementsAre(9, 5));
}

class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa) : isa_(ActiveIsa()) { EXPECT_TRUE(SetActiveIsa(isa).ok()); }
  ~ScopedIsa() { EXPECT_TRUE(SetActiveIsa(isa_).ok()); }

 private:
  Isa isa_;
};

struct Outcome {
  absl::Status status;
  GenerateResult result;
  std::vector<std::pair<int32_t, std::string>> calls;
  std::vector<int32_t> tokens;  // the session's afterwards
  std::vector<float> logits;
  bool has_logits = false;
};

Outcome GenerateWith(const Model& model, const std::string& prompt, const SamplerParams& sampler, GenerateOptions options,
            int stop_at_call = -1) {
  Outcome out;
  SessionOptions so;
  so.n_ctx = 512;
  so.n_threads = 2;
  so.sampler = sampler;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(model, so);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return out;
  EncodeOptions encode;
  encode.add_bos = true;
  Generator generator(**session, options);
  out.status = generator.Run(prompt, encode, [&](int32_t token, std::string_view text) {
    out.calls.emplace_back(token, std::string(text));
    return static_cast<int>(out.calls.size()) - 1 == stop_at_call;
  }, &out.result);
  out.tokens.assign((*session)->tokens().begin(), (*session)->tokens().end());
  out.has_logits = (*session)->has_logits();
  if (out.has_logits) out.logits.assign((*session)->last_logits().begin(), (*session)->last_logits().end());
  return out;
}

void ExpectSame(const Outcome& plain, const Outcome& fast, const std::string& what) {
  EXPECT_EQ(plain.status, fast.status) << what;
  EXPECT_EQ(plain.calls, fast.calls) << what;
  EXPECT_EQ(plain.result.n_generated, fast.result.n_generated) << what;
  EXPECT_EQ(plain.result.stop_reason, fast.result.stop_reason) << what;
  EXPECT_EQ(plain.tokens, fast.tokens) << what;
  EXPECT_EQ(plain.has_logits, fast.has_logits) << what;
  EXPECT_TRUE(plain.logits.size() == fast.logits.size() &&
              std::memcmp(plain.logits.data(), fast.logits.data(), plain.logits.size() * sizeof(float)) == 0)
      << what << ": last logits";
}

// A prompt that repeats itself, so lookup finds drafts from the first step on.
constexpr char kRepeating[] =
    "Once upon a time there was a little dog. The dog liked to play in the park. Once upon a time "
    "there was a little dog. The dog liked to play";

struct Variant {
  std::string name;
  SamplerParams sampler;
  GenerateOptions options;
  int stop_at_call = -1;
};

std::vector<Variant> Variants() {
  std::vector<Variant> v;
  auto add = [&](std::string name, float temperature, uint64_t seed, float repeat_penalty) {
    Variant x;
    x.name = std::move(name);
    x.sampler.temperature = temperature;
    x.sampler.seed = seed;
    x.sampler.repeat_penalty = repeat_penalty;
    x.options.max_tokens = 40;
    v.push_back(x);
    return &v.back();
  };
  add("greedy", 0.0f, 1, 1.0f);
  add("greedy, repeat penalty", 0.0f, 1, 1.3f);
  add("sampled 0.8", 0.8f, 7, 1.0f);
  add("sampled 1.5, penalty", 1.5f, 99, 1.1f);
  add("greedy, 5 tokens", 0.0f, 1, 1.0f)->options.max_tokens = 5;
  add("greedy, stop string", 0.0f, 1, 1.0f)->options.stop_strings = {"park", "dog."};
  add("sampled, stop string", 0.7f, 3, 1.0f)->options.stop_strings = {"the"};
  Variant* sink_stop = add("greedy, the sink stops", 0.0f, 1, 1.0f);
  sink_stop->stop_at_call = 6;
  sink_stop->options.stop_strings = {"zzz"};  // with held-back tokens
  add("greedy, ignore eos", 0.0f, 1, 1.0f)->options.ignore_eos = true;
  // Generation ending on a sampled token that is never evaluated, right after confirmed
  // drafts: the session must end with the logits of the last kept token. 426 is "." in
  // stories260K's vocabulary (some token in the others').
  add("greedy, stop token", 0.0f, 1, 1.0f)->options.stop_tokens = {426};
  add("sampled, stop token", 0.9f, 5, 1.0f)->options.stop_tokens = {426};
  add("greedy, to the end", 0.0f, 1, 1.0f)->options.max_tokens = 300;
  return v;
}

struct ModelCase {
  std::string file;
  bool words;  // a real vocabulary (stories260K): the repeating prompt means something
};

class SpeculationTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(SpeculationTest, OutputIsPlainDecodingsOnEveryIsa) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(TestDataPath("models/" + GetParam().file), {});
  ASSERT_TRUE(model.ok()) << model.status();
  for (Isa isa : RunnableIsas()) {
    // Every ISA for stories260K; the tiny models on the best one only (the suite's time under
    // the sanitizers: row exactness per ISA is batch_eval_test's and matmul_test's job).
    if (!GetParam().words && isa != DetectedIsa()) continue;
    ScopedIsa scoped(isa);
    int32_t drafted = 0, accepted = 0;
    for (Variant v : Variants()) {
      const std::string what = GetParam().file + " on " + std::string(IsaName(isa)) + ", " + v.name;
      const Outcome plain = GenerateWith(**model, kRepeating, v.sampler, v.options, v.stop_at_call);
      for (const int32_t lookup : {3, kMaxLookup}) {
        GenerateOptions o = v.options;
        o.lookup = lookup;
        const Outcome fast = GenerateWith(**model, kRepeating, v.sampler, o, v.stop_at_call);
        ExpectSame(plain, fast, what + ", lookup " + std::to_string(lookup));
        EXPECT_LE(fast.result.n_accepted, fast.result.n_drafted);
        drafted += fast.result.n_drafted;
        accepted += fast.result.n_accepted;
      }
    }
    EXPECT_GT(drafted, 0) << GetParam().file;
    if (GetParam().words) EXPECT_GT(accepted, 0) << GetParam().file << " on " << IsaName(isa);
    std::printf("[lookup] %-26s %-6s drafted %d, accepted %d\n", GetParam().file.c_str(), IsaName(isa).data(),
                drafted, accepted);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModel, SpeculationTest,
                         ::testing::Values(ModelCase{"stories260K.gguf", true}, ModelCase{"tiny-llama2.f32.gguf", false},
                                           ModelCase{"tiny-llama2.q8_0.gguf", false},
                                           ModelCase{"tiny-mistral.q8_0.gguf", false},
                                           ModelCase{"tiny-phi2.f32.gguf", false},
                                           ModelCase{"tiny-phi2.q8_0.gguf", false}),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// A draft model: a quantized copy of the target (high agreement), the target itself (every
// greedy guess confirmed) and a model of another architecture on the same vocabulary.
TEST(SpeculationDraftModelTest, OutputIsPlainDecodings) {
  struct Pair {
    std::string target, draft;
  };
  for (const Pair& pair : {Pair{"tiny-llama2.f32.gguf", "tiny-llama2.q8_0.gguf"},
                           Pair{"tiny-phi2.f32.gguf", "tiny-phi2.q8_0.gguf"},
                           Pair{"stories260K.gguf", "stories260K.gguf"}}) {
    absl::StatusOr<std::unique_ptr<Model>> target = Model::Load(TestDataPath("models/" + pair.target), {});
    absl::StatusOr<std::unique_ptr<Model>> draft_model = Model::Load(TestDataPath("models/" + pair.draft), {});
    ASSERT_TRUE(target.ok() && draft_model.ok());
    int32_t drafted = 0, accepted = 0;
    for (Variant v : Variants()) {
      SessionOptions so;
      so.n_ctx = 512;
      absl::StatusOr<std::unique_ptr<Session>> draft = Session::Create(**draft_model, so);
      ASSERT_TRUE(draft.ok());
      const std::string what = pair.target + " drafted by " + pair.draft + ", " + v.name;
      const Outcome plain = GenerateWith(**target, kRepeating, v.sampler, v.options, v.stop_at_call);
      GenerateOptions o = v.options;
      o.draft = draft->get();
      o.draft_n = 4;
      const Outcome fast = GenerateWith(**target, kRepeating, v.sampler, o, v.stop_at_call);
      ExpectSame(plain, fast, what);
      // Again with the draft session holding the previous call's context (a reused prefix).
      const Outcome again = GenerateWith(**target, kRepeating, v.sampler, o, v.stop_at_call);
      ExpectSame(plain, again, what + ", second call");
      drafted += fast.result.n_drafted;
      accepted += fast.result.n_accepted;
    }
    EXPECT_GT(accepted, 0) << pair.target;
    if (pair.target == pair.draft) EXPECT_GT(accepted * 2, drafted) << "a model drafting for itself";
    std::printf("[draft] %-22s by %-22s drafted %d, accepted %d\n", pair.target.c_str(), pair.draft.c_str(), drafted,
                accepted);
  }
}

TEST(SpeculationDraftModelTest, MismatchedOrMisusedDraftsAreRefused) {
  absl::StatusOr<std::unique_ptr<Model>> stories = Model::Load(TestDataPath("models/stories260K.gguf"), {});
  absl::StatusOr<std::unique_ptr<Model>> phi = Model::Load(TestDataPath("models/tiny-phi2.f32.gguf"), {});
  ASSERT_TRUE(stories.ok() && phi.ok());
  absl::StatusOr<std::unique_ptr<Session>> target = Session::Create(**stories, {});
  absl::StatusOr<std::unique_ptr<Session>> other_vocab = Session::Create(**phi, {});
  ASSERT_TRUE(target.ok() && other_vocab.ok());
  auto run = [&](const GenerateOptions& o) {
    Generator g(**target, o);
    GenerateResult r;
    EncodeOptions encode;
    encode.add_bos = true;
    return g.Run("Once", encode, [](int32_t, std::string_view) { return false; }, &r);
  };
  GenerateOptions o;
  o.max_tokens = 4;
  o.draft = other_vocab->get();
  o.draft_n = 3;
  EXPECT_TRUE(absl::IsInvalidArgument(run(o)));
  o.draft = target->get();
  EXPECT_TRUE(absl::IsInvalidArgument(run(o)));
  o.draft = nullptr;
  EXPECT_TRUE(absl::IsInvalidArgument(run(o)));
  o.draft = other_vocab->get();
  o.lookup = 2;
  EXPECT_TRUE(absl::IsInvalidArgument(run(o)));
  EXPECT_EQ((*target)->n_past(), 0);  // refused before anything ran
}

// With a grammar the verification must stop where the grammar completes, and the state the
// grammar ends in is plain decoding's.
TEST(SpeculationGrammarTest, JsonObjectOutputIsPlainDecodings) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(TestDataPath("models/stories260K.gguf"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  for (const uint64_t seed : {1, 2, 3, 4}) {
    SamplerParams sampler;
    sampler.temperature = seed == 1 ? 0.0f : 1.0f;
    sampler.seed = seed;
    absl::StatusOr<std::shared_ptr<const grammar::Program>> program =
        grammar::CompileConstraint(grammar::GrammarKind::kJsonObject, "");
    ASSERT_TRUE(program.ok()) << program.status();
    sampler.grammar = *program;
    GenerateOptions options;
    options.max_tokens = 60;
    const Outcome plain = GenerateWith(**model, "{\"a\": 1, \"a\": 1, \"a\": 1, \"a\": 1", sampler, options);
    options.lookup = 5;
    const Outcome fast = GenerateWith(**model, "{\"a\": 1, \"a\": 1, \"a\": 1, \"a\": 1", sampler, options);
    ExpectSame(plain, fast, "json object, seed " + std::to_string(seed));
  }
}

TEST(SpeculationOptionsTest, LookupOutOfRangeIsRefusedAndSteppingRefusesIt) {
  GenerateOptions o;
  o.lookup = -1;
  EXPECT_FALSE(ValidateGenerateOptions(o).ok());
  o.lookup = kMaxLookup + 1;
  EXPECT_FALSE(ValidateGenerateOptions(o).ok());
  o.lookup = kMaxLookup;
  EXPECT_TRUE(ValidateGenerateOptions(o).ok());
}

}  // namespace
}  // namespace ember::testing
