// Session: chunked evaluation, errors that leave the session unchanged (invalid token,
// context full, cancellation), the sliding-window ring buffer, context shifting, and
// independence of sessions sharing one model.
#include "lib/runtime/session.h"

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/runtime/kv_cache.h"
#include "tests/model/reference_check.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const Model& LoadCached(const std::string& name) {
  static auto* models = new std::map<std::string, std::unique_ptr<Model>>();
  auto& slot = (*models)[name];
  if (!slot) {
    auto m = Model::Load(TestDataPath("models/" + name), {});
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) slot = std::move(*m);
  }
  return *slot;
}
const Model& Llama() { return LoadCached("tiny-llama2.f32.gguf"); }
const Model& Mistral() { return LoadCached("tiny-mistral"); }

std::unique_ptr<Session> MustCreate(const Model& model, SessionOptions options) {
  auto s = Session::Create(model, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

std::vector<float> Copy(absl::Span<const float> v) { return {v.begin(), v.end()}; }

// Greedily extends `s` by n tokens one at a time; returns each step's logits.
std::vector<std::vector<float>> Generate(Session& s, int n) {
  std::vector<std::vector<float>> steps;
  for (int i = 0; i < n; ++i) {
    const int32_t token = Argmax(s.last_logits());
    const absl::Status st = s.Eval({token}, nullptr, nullptr);
    EXPECT_TRUE(st.ok()) << st;
    if (!st.ok()) break;
    steps.push_back(Copy(s.last_logits()));
  }
  return steps;
}

TEST(SessionTest, ChunkedPrefillMatchesOneBatch) {
  const std::vector<int32_t> prompt = PromptOf("tiny-llama2.f32.long.json");
  SessionOptions one;
  SessionOptions chunked;
  chunked.n_batch = 7;
  const std::vector<float> a = EvalAllLogits(Llama(), prompt, one);
  const std::vector<float> b = EvalAllLogits(Llama(), prompt, chunked);
  ASSERT_FALSE(a.empty());
  EXPECT_LE(MaxAbsDiff(a, b), 1e-5);
}

// The README's tiny-mistral cases run past the window of 16 in the prompt and during
// generation; in chunks of 5 the ring buffer (capacity 21) wraps many times.
TEST(SessionTest, MistralReferenceWithSmallChunks) {
  for (const char* c : {"long", "code"}) {
    const nlohmann::json j = ReadJson(TestDataPath(std::string("reference/tiny-mistral.f32.") + c + ".json"));
    ReferenceChoice choice;
    choice.ref = &j;
    choice.greedy_exact_steps = FirstStepWithMarginBelow(j["greedy"], 2e-3);
    SessionOptions options;
    options.n_batch = 5;
    const CaseResult r = CheckReferenceCase(Mistral(), j, choice, options);
    EXPECT_EQ(r.greedy_steps_compared, 32);
    std::printf("[mistral n_batch=5] %s max|diff| prompt %.3g greedy %.3g\n", c, r.max_prompt_diff,
                r.max_greedy_diff);
  }
}

TEST(SessionTest, WindowedKvBytesStayConstant) {
  SessionOptions options;
  options.n_ctx = 1024;
  options.n_batch = 16;
  auto s = MustCreate(Mistral(), options);
  ASSERT_NE(s, nullptr);
  const ModelConfig& c = Mistral().config();
  const int64_t kv_dim = int64_t{c.n_head_kv} * c.head_dim;
  const uint64_t ring_bytes = KvCache::BytesFor(c.n_layer, kv_dim, c.sliding_window + 16);
  ASSERT_TRUE(s->Eval({1, 450, 4996}, nullptr, nullptr).ok());
  uint64_t bytes_after_fill = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(s->Eval({Argmax(s->last_logits())}, nullptr, nullptr).ok());
    if (s->n_past() == c.sliding_window + 16) bytes_after_fill = s->kv_bytes();
    if (s->n_past() > c.sliding_window + 16) {
      ASSERT_EQ(s->kv_bytes(), bytes_after_fill) << s->n_past();
    }
  }
  EXPECT_EQ(s->n_past(), 203);
  EXPECT_EQ(s->kv_bytes(), ring_bytes);
  EXPECT_LT(s->kv_bytes(), KvCache::BytesFor(c.n_layer, kv_dim, 203));

  // The same generation with a ring large enough never to wrap gives the same logits.
  SessionOptions big = options;
  big.n_batch = 512;
  auto t = MustCreate(Mistral(), big);
  auto u = MustCreate(Mistral(), options);
  ASSERT_TRUE(t->Eval({1, 450, 4996}, nullptr, nullptr).ok());
  ASSERT_TRUE(u->Eval({1, 450, 4996}, nullptr, nullptr).ok());
  const auto steps_t = Generate(*t, 100);
  const auto steps_u = Generate(*u, 100);
  ASSERT_EQ(steps_t.size(), steps_u.size());
  for (size_t i = 0; i < steps_t.size(); ++i) ASSERT_LE(MaxAbsDiff(steps_t[i], steps_u[i]), 1e-5) << i;

  // A full-attention session grows with its context.
  SessionOptions full;
  full.n_ctx = 1024;
  auto f = MustCreate(Llama(), full);
  ASSERT_TRUE(f->Eval({1, 450}, nullptr, nullptr).ok());
  Generate(*f, 300);
  EXPECT_GE(f->kv_bytes(), KvCache::BytesFor(Llama().config().n_layer,
                                             int64_t{Llama().config().n_head_kv} * Llama().config().head_dim,
                                             302));
}

TEST(SessionTest, InvalidTokenLeavesSessionUnchanged) {
  auto s = MustCreate(Llama(), {});
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Eval({1, 450, 4996}, nullptr, nullptr).ok());
  const std::vector<float> before = Copy(s->last_logits());
  for (const int32_t bad : {-1, 32000, 1 << 30}) {
    const absl::Status st = s->Eval({5, bad, 7}, nullptr, nullptr);
    EXPECT_TRUE(IsInvalidToken(st)) << st;
    EXPECT_THAT(st.message(), AllOf(HasSubstr(std::to_string(bad)), HasSubstr("32000")));
    EXPECT_EQ(s->n_past(), 3);
    EXPECT_EQ(Copy(s->last_logits()), before);
  }
}

TEST(SessionTest, ContextFullLeavesSessionUnchanged) {
  SessionOptions options;
  options.n_ctx = 8;
  auto s = MustCreate(Llama(), options);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Eval({1, 450, 4996, 338, 263, 1243}, nullptr, nullptr).ok());
  const std::vector<float> before = Copy(s->last_logits());
  const absl::Status st = s->Eval({100, 200, 300}, nullptr, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange) << st;
  EXPECT_EQ(s->n_past(), 6);
  EXPECT_THAT(std::vector<int32_t>(s->tokens().begin(), s->tokens().end()),
              ::testing::ElementsAre(1, 450, 4996, 338, 263, 1243));
  EXPECT_EQ(Copy(s->last_logits()), before);
  // The two tokens that do fit give the same logits as a fresh session.
  ASSERT_TRUE(s->Eval({100, 200}, nullptr, nullptr).ok());
  const std::vector<float> fresh = EvalAllLogits(Llama(), {1, 450, 4996, 338, 263, 1243, 100, 200});
  const int n_vocab = Llama().config().n_vocab;
  EXPECT_LE(MaxAbsDiff(s->last_logits(), absl::MakeConstSpan(fresh).subspan(7 * n_vocab)), 1e-5);
  EXPECT_EQ(s->Eval({1}, nullptr, nullptr).code(), absl::StatusCode::kOutOfRange);
}

TEST(SessionTest, CancelBeforeStartRollsBack) {
  auto s = MustCreate(Llama(), {});
  ASSERT_TRUE(s->Eval({1, 450, 4996}, nullptr, nullptr).ok());
  const std::vector<float> before = Copy(s->last_logits());
  std::atomic<bool> cancel{true};
  const absl::Status st = s->Eval({338, 263}, nullptr, &cancel);
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
  EXPECT_EQ(s->n_past(), 3);
  EXPECT_EQ(Copy(s->last_logits()), before);
}

// Cancels at varying moments while a windowed session evaluates a long input in small
// chunks (the ring wraps within the call). Whenever the cancel lands, the session must be
// as before and continuing must give exactly what an uncancelled session gives.
TEST(SessionTest, CancelMidwayRollsBackWindowedSession) {
  const std::vector<int32_t> prompt = PromptOf("tiny-mistral.f32.long.json");
  const std::vector<int32_t> head(prompt.begin(), prompt.begin() + 20);
  const std::vector<int32_t> tail(prompt.begin() + 20, prompt.end());
  SessionOptions options;
  options.n_batch = 4;
  auto ref = MustCreate(Mistral(), options);
  ASSERT_TRUE(ref->Eval(head, nullptr, nullptr).ok());
  ASSERT_TRUE(ref->Eval(tail, nullptr, nullptr).ok());
  const std::vector<float> want = Copy(ref->last_logits());
  int cancelled = 0;
  // delay -1: the flag is set before the call, so the first check (after the first layer of
  // the first chunk has written KV rows) cancels — deterministic, whatever the machine's
  // load; the timed delays land the cancel at varying points.
  for (int delay_us : {-1, 0, 20, 50, 100, 200, 400, 800, 1600}) {
    auto s = MustCreate(Mistral(), options);
    ASSERT_TRUE(s->Eval(head, nullptr, nullptr).ok());
    const std::vector<float> before = Copy(s->last_logits());
    std::atomic<bool> cancel{delay_us < 0};
    std::thread canceller([&] {
      if (delay_us < 0) return;
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      cancel = true;
    });
    const absl::Status st = s->Eval(tail, nullptr, &cancel);
    canceller.join();
    if (delay_us < 0) {
      EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
    }
    if (st.code() == absl::StatusCode::kCancelled) {
      ++cancelled;
      EXPECT_EQ(s->n_past(), 20);
      EXPECT_EQ(Copy(s->last_logits()), before);
      ASSERT_TRUE(s->Eval(tail, nullptr, nullptr).ok());
    } else {
      ASSERT_TRUE(st.ok()) << st;
    }
    EXPECT_EQ(Copy(s->last_logits()), want) << "delay " << delay_us;
  }
  EXPECT_GT(cancelled, 0);
}

TEST(SessionTest, TwoSessionsOnOneModelAreIndependent) {
  const std::vector<int32_t> p1 = PromptOf("tiny-mistral.f32.code.json");
  const std::vector<int32_t> p2 = PromptOf("tiny-mistral.f32.unicode.json");
  SessionOptions options;
  options.n_batch = 8;
  auto a = MustCreate(Mistral(), options);
  auto b = MustCreate(Mistral(), options);
  // Interleave the two sessions' chunks and steps.
  for (size_t i = 0; i < std::max(p1.size(), p2.size()); i += 5) {
    if (i < p1.size()) {
      ASSERT_TRUE(a->Eval(absl::MakeConstSpan(p1).subspan(i, 5), nullptr, nullptr).ok());
    }
    if (i < p2.size()) {
      ASSERT_TRUE(b->Eval(absl::MakeConstSpan(p2).subspan(i, 5), nullptr, nullptr).ok());
    }
  }
  const std::vector<float> alone1 = EvalAllLogits(Mistral(), p1, options);
  const std::vector<float> alone2 = EvalAllLogits(Mistral(), p2, options);
  const int n_vocab = Mistral().config().n_vocab;
  EXPECT_LE(MaxAbsDiff(a->last_logits(), absl::MakeConstSpan(alone1).subspan((p1.size() - 1) * n_vocab)), 1e-5);
  EXPECT_LE(MaxAbsDiff(b->last_logits(), absl::MakeConstSpan(alone2).subspan((p2.size() - 1) * n_vocab)), 1e-5);
}

// Context shift recomputes the kept tokens, so after every shift the logits must equal a
// fresh evaluation of the session's (shortened) token history.
TEST(SessionTest, ContextShiftKeepsGenerating) {
  SessionOptions options;
  options.n_ctx = 24;
  options.n_keep = 1;
  options.context_shift = true;
  options.n_batch = 8;
  auto s = MustCreate(Llama(), options);
  ASSERT_TRUE(s->Eval({1, 450, 4996, 338}, nullptr, nullptr).ok());
  int shifts = 0;
  int32_t prev_past = s->n_past();
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(s->Eval({Argmax(s->last_logits())}, nullptr, nullptr).ok()) << i;
    ASSERT_LE(s->n_past(), 24);
    ASSERT_EQ(s->tokens()[0], 1);  // n_keep
    if (s->n_past() < prev_past) {
      ++shifts;
      const std::vector<int32_t> history(s->tokens().begin(), s->tokens().end());
      const std::vector<float> fresh = EvalAllLogits(Llama(), history);
      const int n_vocab = Llama().config().n_vocab;
      EXPECT_LE(MaxAbsDiff(s->last_logits(),
                           absl::MakeConstSpan(fresh).subspan((history.size() - 1) * n_vocab)),
                1e-5);
    }
    prev_past = s->n_past();
  }
  EXPECT_GE(shifts, 3);
}

TEST(SessionTest, CancelledShiftRollsBack) {
  SessionOptions options;
  options.n_ctx = 16;
  options.n_keep = 2;
  options.context_shift = true;
  auto s = MustCreate(Llama(), options);
  auto ref = MustCreate(Llama(), options);
  std::vector<int32_t> prompt;
  for (int i = 0; i < 16; ++i) prompt.push_back(100 + 7 * i);
  ASSERT_TRUE(s->Eval(prompt, nullptr, nullptr).ok());
  ASSERT_TRUE(ref->Eval(prompt, nullptr, nullptr).ok());
  const std::vector<float> before = Copy(s->last_logits());
  std::atomic<bool> cancel{true};
  EXPECT_EQ(s->Eval({42}, nullptr, &cancel).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(s->n_past(), 16);
  EXPECT_EQ(std::vector<int32_t>(s->tokens().begin(), s->tokens().end()), prompt);
  EXPECT_EQ(Copy(s->last_logits()), before);
  // Continuing after the rollback equals never having been cancelled.
  ASSERT_TRUE(s->Eval({42}, nullptr, nullptr).ok());
  ASSERT_TRUE(ref->Eval({42}, nullptr, nullptr).ok());
  EXPECT_EQ(std::vector<int32_t>(s->tokens().begin(), s->tokens().end()),
            std::vector<int32_t>(ref->tokens().begin(), ref->tokens().end()));
  EXPECT_LE(MaxAbsDiff(s->last_logits(), ref->last_logits()), 1e-6);
}

TEST(SessionTest, AllLogitsAcrossChunksMatchLastLogits) {
  SessionOptions options;
  options.n_batch = 3;
  auto s = MustCreate(Llama(), options);
  ASSERT_TRUE(s->Eval({1, 450}, nullptr, nullptr).ok());
  const std::vector<int32_t> more = {4996, 338, 263, 1243, 100, 200, 300};
  std::vector<float> all(more.size() * Llama().config().n_vocab);
  ASSERT_TRUE(s->Eval(more, all.data(), nullptr).ok());
  std::vector<int32_t> whole = {1, 450};
  whole.insert(whole.end(), more.begin(), more.end());
  const std::vector<float> fresh = EvalAllLogits(Llama(), whole);
  const size_t n_vocab = Llama().config().n_vocab;
  EXPECT_LE(MaxAbsDiff(all, absl::MakeConstSpan(fresh).subspan(2 * n_vocab)), 1e-5);
  EXPECT_EQ(Copy(s->last_logits()),
            std::vector<float>(all.end() - n_vocab, all.end()));
}

TEST(SessionTest, ThreadsGiveSameLogits) {
  const std::vector<int32_t> prompt = PromptOf("tiny-phi2.f32.long.json");
  const Model& phi = LoadCached("tiny-phi2.f32.gguf");
  SessionOptions threaded;
  threaded.n_threads = 2;
  const std::vector<float> a = EvalAllLogits(phi, prompt, threaded);
  const std::vector<float> b = EvalAllLogits(phi, prompt);
  ASSERT_FALSE(a.empty());
  EXPECT_LE(MaxAbsDiff(a, b), 1e-6);
  auto s = MustCreate(phi, threaded);
  auto t = MustCreate(phi, {});
  ASSERT_TRUE(s->Eval(prompt, nullptr, nullptr).ok());
  ASSERT_TRUE(t->Eval(prompt, nullptr, nullptr).ok());
  const auto steps_s = Generate(*s, 8);
  const auto steps_t = Generate(*t, 8);
  for (size_t i = 0; i < steps_s.size() && i < steps_t.size(); ++i) {
    EXPECT_LE(MaxAbsDiff(steps_s[i], steps_t[i]), 1e-6) << i;
  }
}

TEST(SessionTest, ResetAndLimits) {
  auto s = MustCreate(Llama(), {});
  EXPECT_EQ(s->n_ctx(), 4096);  // min(n_ctx_train 4096, 4096)
  EXPECT_FALSE(s->has_logits());
  EXPECT_TRUE(s->last_logits().empty());
  ASSERT_TRUE(s->Eval({1, 450}, nullptr, nullptr).ok());
  const std::vector<float> first = Copy(s->last_logits());
  s->Reset();
  EXPECT_EQ(s->n_past(), 0);
  EXPECT_FALSE(s->has_logits());
  ASSERT_TRUE(s->Eval({1, 450}, nullptr, nullptr).ok());
  EXPECT_EQ(Copy(s->last_logits()), first);

  SessionOptions tiny;
  tiny.max_kv_bytes = 1000;
  const auto too_big = Session::Create(Llama(), tiny);
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted);
  SessionOptions bad_keep;
  bad_keep.n_ctx = 8;
  bad_keep.n_keep = 8;
  EXPECT_EQ(Session::Create(Llama(), bad_keep).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ember::testing
