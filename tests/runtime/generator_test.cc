// Generator: the generation loop's stop conditions and streaming contract, checked against
// an unconstrained greedy run of the same prompt (stories260K writes real words, so its
// greedy text has token boundaries to place stop strings across).
#include "lib/runtime/generator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kPrompt[] = "Once upon a time";

const Model& Stories() {
  static const Model* model = [] {
    auto m = Model::Load(TestDataPath("models/stories260K.gguf"), {});
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? m->release() : nullptr;
  }();
  return *model;
}

std::unique_ptr<Session> NewSession() {
  SessionOptions options;
  options.n_ctx = 256;
  auto s = Session::Create(Stories(), options);
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(*s);
}

std::vector<int32_t> PromptIds() {
  std::vector<int32_t> ids;
  EncodeOptions encode;
  encode.add_bos = true;
  EXPECT_TRUE(Stories().tokenizer().Encode(kPrompt, encode, &ids).ok());
  return ids;
}

struct Call {
  int32_t token;
  std::string text;
  int32_t n_past;  // the session's length when the call came
};

struct GenRun {
  absl::Status status;
  GenerateResult result;
  std::vector<Call> calls;
  std::string text;  // all text passed
  std::vector<int32_t> ids;  // ids passed (not -1)
};

// Generates from kPrompt; the sink stops at the call with index `stop_at_call`.
GenRun Generate(Session& session, const GenerateOptions& options, int stop_at_call = -1) {
  GenRun run;
  EncodeOptions encode;
  encode.add_bos = true;
  Generator generator(session, options);
  run.status = generator.Run(kPrompt, encode, [&](int32_t token, std::string_view text) {
    run.calls.push_back({token, std::string(text), session.n_past()});
    run.text.append(text);
    if (token >= 0) run.ids.push_back(token);
    return static_cast<int>(run.calls.size()) - 1 == stop_at_call;
  }, &run.result);
  return run;
}

// The unconstrained greedy run every test compares with.
const GenRun& Reference() {
  static const GenRun* run = [] {
    auto session = NewSession();
    GenerateOptions options;
    options.max_tokens = 60;
    options.ignore_eos = true;
    return new GenRun(Generate(*session, options));
  }();
  return *run;
}

// Checks that `session` is exactly what a fresh session holding kPrompt + `ids` would be:
// same tokens, and greedy generation continues with the reference's next tokens.
void ExpectSessionIsPromptPlus(Session& session, const std::vector<int32_t>& ids) {
  std::vector<int32_t> expected = PromptIds();
  expected.insert(expected.end(), ids.begin(), ids.end());
  EXPECT_THAT(session.tokens(), ElementsAreArray(expected));
  const GenRun& ref = Reference();
  const size_t k = ids.size();
  if (k + 2 > ref.ids.size()) return;
  auto fresh = NewSession();
  ASSERT_TRUE(fresh->Eval(expected, nullptr, nullptr).ok());
  const absl::Span<const float> a = session.last_logits(), b = fresh->last_logits();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4f) << "logit " << i;
  for (size_t i = k; i < k + 2; ++i) {
    auto next = session.Sample();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, ref.ids[i]) << "continuation token " << i;
    ASSERT_TRUE(session.Eval({*next}, nullptr, nullptr).ok());
  }
}

// Index of a reference token whose text and the next one's are at least `min_len` bytes
// and whose boundary text `stop` (built by `make`) first occurs where expected.
template <typename Make>
int FindBoundary(size_t min_len, Make make, std::string* stop, size_t* expected_pos) {
  const GenRun& ref = Reference();
  size_t offset = 0;
  for (size_t k = 0; k + 1 < ref.calls.size(); offset += ref.calls[k].text.size(), ++k) {
    const std::string& a = ref.calls[k].text;
    const std::string& b = ref.calls[k + 1].text;
    if (k < 3 || a.size() < min_len || b.size() < min_len) continue;
    size_t start_in_a = 0;
    *stop = make(a, b, &start_in_a);
    *expected_pos = offset + start_in_a;
    if (ref.text.find(*stop) == *expected_pos) return static_cast<int>(k);
  }
  return -1;
}

TEST(GeneratorTest, ReferenceRunReportsEveryToken) {
  const GenRun& ref = Reference();
  ASSERT_TRUE(ref.status.ok()) << ref.status;
  EXPECT_EQ(ref.result.n_generated, 60);
  EXPECT_EQ(ref.result.stop_reason, StopReason::kMaxTokens);
  ASSERT_EQ(ref.calls.size(), 60u);
  // Without stop strings each token is reported right after its evaluation.
  const int32_t n_prompt = static_cast<int32_t>(PromptIds().size());
  for (size_t i = 0; i < ref.calls.size(); ++i) EXPECT_EQ(ref.calls[i].n_past, n_prompt + 1 + static_cast<int32_t>(i));
}

TEST(GeneratorTest, StopStringAcrossTokensNeverReachesTheSink) {
  // The stop string starts exactly at token k and ends inside token k+1.
  std::string stop;
  size_t pos = 0;
  const int k = FindBoundary(2, [](const std::string& a, const std::string& b, size_t* start) {
    *start = 0;
    return a + b.substr(0, 2);
  }, &stop, &pos);
  ASSERT_GE(k, 0) << "no usable token boundary in: " << Reference().text;
  SCOPED_TRACE("stop string \"" + stop + "\" at byte " + std::to_string(pos));

  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.ignore_eos = true;
  options.stop_strings = {"never appears in a story \xe2\x9c\x93", stop};
  const GenRun run = Generate(*session, options);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.stop_reason, StopReason::kStopString);
  EXPECT_EQ(run.text, Reference().text.substr(0, pos)) << "stop: '" << stop << "'";
  EXPECT_EQ(run.result.n_generated, k);
  for (const Call& c : run.calls) EXPECT_GE(c.token, 0) << "no partial token: the stop starts on a boundary";
  EXPECT_THAT(run.ids, ElementsAreArray(Reference().ids.begin(), Reference().ids.begin() + k));
  ExpectSessionIsPromptPlus(*session, run.ids);
}

TEST(GeneratorTest, StopStringInsideATokenEmitsTheTextBeforeIt) {
  // The stop string starts after the first byte of token k and ends inside token k+1.
  std::string stop;
  size_t pos = 0;
  const int k = FindBoundary(2, [](const std::string& a, const std::string& b, size_t* start) {
    *start = 1;
    return a.substr(1) + b.substr(0, 2);
  }, &stop, &pos);
  ASSERT_GE(k, 0) << "no usable token boundary in: " << Reference().text;
  SCOPED_TRACE("stop string \"" + stop + "\" at byte " + std::to_string(pos));

  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.ignore_eos = true;
  options.stop_strings = {stop};
  const GenRun run = Generate(*session, options);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.stop_reason, StopReason::kStopString);
  EXPECT_EQ(run.text, Reference().text.substr(0, pos));
  ASSERT_FALSE(run.calls.empty());
  // The first byte of token k comes in a final call without a token; token k is dropped.
  EXPECT_EQ(run.calls.back().token, -1);
  EXPECT_EQ(run.calls.back().text, Reference().calls[static_cast<size_t>(k)].text.substr(0, 1));
  EXPECT_EQ(run.result.n_generated, k);
  ExpectSessionIsPromptPlus(*session, run.ids);
}

TEST(GeneratorTest, StopStringEndingInsideATokenDropsTheRestOfIt) {
  // Stop = all of token k plus the first byte of token k+1: the rest of k+1 is never shown.
  std::string stop;
  size_t pos = 0;
  const int k = FindBoundary(2, [](const std::string& a, const std::string& b, size_t* start) {
    *start = 0;
    return a + b.substr(0, 1);
  }, &stop, &pos);
  ASSERT_GE(k, 0);
  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.stop_strings = {stop};
  options.ignore_eos = true;
  const GenRun run = Generate(*session, options);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.text, Reference().text.substr(0, pos));
  EXPECT_EQ(run.result.n_generated, k);
  ExpectSessionIsPromptPlus(*session, run.ids);
}

TEST(GeneratorTest, HeldBackTextIsReleasedWhenItCannotBeAStopString) {
  // A stop string that starts like tokens k..k+2 but then diverges: those tokens are held,
  // then reported once the divergence is known, and generation runs to max_tokens.
  const GenRun& ref = Reference();
  size_t k = 5;
  while (k + 3 < ref.calls.size() && ref.calls[k].text.empty()) ++k;
  const std::string start = ref.calls[k].text + ref.calls[k + 1].text + ref.calls[k + 2].text;
  const std::string stop = start + "\xe2\x9c\x93 never";
  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.ignore_eos = true;
  options.stop_strings = {stop};
  const GenRun run = Generate(*session, options);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(run.text, ref.text);
  EXPECT_EQ(run.ids, ref.ids);
  // Token k was reported only after token k+3 was evaluated (unless `start` also occurs
  // earlier, which only holds tokens longer).
  const int32_t n_prompt = static_cast<int32_t>(PromptIds().size());
  EXPECT_GE(run.calls[k].n_past, n_prompt + static_cast<int32_t>(k) + 4);
  ExpectSessionIsPromptPlus(*session, run.ids);
}

TEST(GeneratorTest, HeldBackTextIsFlushedAtMaxTokens) {
  const GenRun& ref = Reference();
  // The last two tokens' text begins a stop string that never completes.
  const std::string tail = ref.calls[58].text + ref.calls[59].text;
  ASSERT_FALSE(tail.empty());
  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.ignore_eos = true;
  options.stop_strings = {tail + "\xe2\x9c\x93"};
  const GenRun run = Generate(*session, options);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(run.text, ref.text);
  EXPECT_EQ(run.result.n_generated, 60);
  const int32_t n_prompt = static_cast<int32_t>(PromptIds().size());
  EXPECT_EQ(run.calls[59].n_past, n_prompt + 60);
  EXPECT_EQ(run.calls[58].n_past, n_prompt + 60) << "token 58 was held back until the end";
}

TEST(GeneratorTest, SinkStopDropsTokensNotYetReported) {
  const GenRun& ref = Reference();
  const size_t k = 10;
  // Tokens k..k+2 are held as the start of a stop string; the sink stops at token k.
  const std::string stop = ref.calls[k].text + ref.calls[k + 1].text + ref.calls[k + 2].text + "\xe2\x9c\x93";
  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.ignore_eos = true;
  options.stop_strings = {stop};
  const GenRun run = Generate(*session, options, /*stop_at_call=*/static_cast<int>(k));
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.stop_reason, StopReason::kCallback);
  EXPECT_EQ(run.result.n_generated, static_cast<int32_t>(k) + 1);
  EXPECT_THAT(run.ids, ElementsAreArray(ref.ids.begin(), ref.ids.begin() + k + 1));
  ExpectSessionIsPromptPlus(*session, run.ids);
}

TEST(GeneratorTest, SinkStopWithoutStopStringsKeepsThatToken) {
  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.ignore_eos = true;
  const GenRun run = Generate(*session, options, /*stop_at_call=*/4);
  EXPECT_EQ(run.result.stop_reason, StopReason::kCallback);
  EXPECT_EQ(run.result.n_generated, 5);
  ExpectSessionIsPromptPlus(*session, run.ids);
}

TEST(GeneratorTest, StopTokenEndsBeforeItIsEvaluated) {
  const GenRun& ref = Reference();
  // The first reference token whose id did not occur before.
  size_t k = 3;
  while (std::find(ref.ids.begin(), ref.ids.begin() + k, ref.ids[k]) != ref.ids.begin() + k) ++k;
  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 60;
  options.ignore_eos = true;
  options.stop_tokens = {999999, ref.ids[k]};  // an id the model lacks never matches
  const GenRun run = Generate(*session, options);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.stop_reason, StopReason::kStopToken);
  EXPECT_EQ(run.result.n_generated, static_cast<int32_t>(k));
  ExpectSessionIsPromptPlus(*session, run.ids);
}

TEST(GeneratorTest, CancelRequestedInTheSinkStopsAfterThatToken) {
  auto session = NewSession();
  GenerateOptions options;
  options.max_tokens = 5;
  GenRun run;
  EncodeOptions encode;
  Generator generator(*session, options);
  int calls = 0;
  // The sink cancels from inside the call, as another thread would.
  run.status = generator.Run(kPrompt, encode, [&](int32_t, std::string_view) {
    ++calls;
    session->cancellation().Request();
    return false;
  }, &run.result);
  EXPECT_TRUE(absl::IsCancelled(run.status)) << run.status;
  EXPECT_EQ(run.result.stop_reason, StopReason::kCancelled);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(run.result.n_generated, 1);
}

TEST(GeneratorTest, InvalidOptions) {
  GenerateOptions o;
  o.max_tokens = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateGenerateOptions(o)));
  o.max_tokens = 1;
  o.stop_strings = {""};
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateGenerateOptions(o)));
  o.stop_strings = {"ok", "\xff"};
  EXPECT_TRUE(IsInvalidUtf8(ValidateGenerateOptions(o)));
  o.stop_strings = {"ok"};
  EXPECT_TRUE(ValidateGenerateOptions(o).ok());
  // An empty prompt on an empty session has nothing to continue from.
  auto session = NewSession();
  Generator generator(*session, o);
  GenerateResult result;
  const absl::Status st = generator.Run("", {}, [](int32_t, std::string_view) { return false; }, &result);
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_THAT(std::string(st.message()), HasSubstr("empty prompt"));
}

}  // namespace
}  // namespace ember::testing
