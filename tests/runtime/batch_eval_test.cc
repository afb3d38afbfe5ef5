// EvalBatch / ForwardBatch: several sessions' tokens in one forward pass. Batch invariance
// is checked bit for bit (memcmp of logits) against the same session evaluated alone, on
// every kernel ISA this CPU has, for every tiny architecture (Llama, Mistral's sliding
// window, Phi-2) in the weight types the tests cover (F32, F16, Q8_0 in int8 and exact
// numerics, and synthetic Q4_0 and K-quant files), with sessions at different positions,
// evaluating one or several tokens, with different thread counts and KV types. Then the
// per-session outcomes: errors and cancellations leave their session untouched and do not
// affect the others; malformed calls touch nothing.
#include "lib/runtime/batch_eval.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/dispatch.h"
#include "kernels/matmul.h"
#include "lib/base/errors.h"
#include "lib/model/forward.h"
#include "lib/model/synth_plan.h"
#include "lib/model/synth_writer.h"
#include "lib/runtime/thread_pool.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

struct ModelCase {
  std::string name;   // file or directory under tests/data/models, or "synth:<shape>:<type>"
  bool exact = false; // quantized weights in QuantNumerics::kExact
};

const ModelCase kModels[] = {
    {"tiny-llama2.f32.gguf"},     {"tiny-llama2.q8_0.gguf"},    {"tiny-llama2.q8_0.gguf", true},
    {"tiny-mistral"},             {"tiny-mistral.q8_0.gguf"},   {"tiny-phi2.f32.gguf"},
    {"tiny-phi2.q8_0.gguf"},      {"stories260K.gguf"},         {"llama-2-tiny-random.gguf"},
    {"synth:tiny-phi2:Q4_0"},     {"synth:tiny-mistral:Q4_K_M"}, {"synth:tiny-llama:Q5_K_M"},
    {"synth:tiny-llama:Q6_K"},
};

// A synthetic model file (lib/model/synth_writer.h) on stories260K's 512-token vocabulary,
// written once per test binary: the tiny shapes have 256-wide rows, so every block type fits.
// A full-size shape (phi2) gets one layer: its 2560- and 10240-wide rows are longer than the
// prefill GEMMs' K chunks (kernels/avx512), which the tiny rows never reach.
std::string SynthPath(const std::string& shape, const std::string& type) {
  static auto* paths = new std::map<std::string, std::string>();
  std::string& path = (*paths)[shape + type];
  if (path.empty()) {
    SynthOptions o;
    o.config = SynthShapeByName(shape)->config;
    if (shape.rfind("tiny-", 0) != 0) {
      o.config.n_layer = 1;
      o.config.n_vocab = 0;  // the vocabulary file's
    }
    o.file_type = *SynthFileTypeByName(type);
    o.vocab_path = TestDataPath("models/stories260K.gguf");
    o.name = "batch test " + shape;
    o.seed = 14;
    ThreadPool pool(2);
    path = WriteTempFile("batch-" + shape + "-" + type + ".gguf", "");
    absl::StatusOr<SynthResult> r = WriteSynthModel(o, path, pool);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  return path;
}

std::unique_ptr<Model> LoadModel(const std::string& name) {
  std::string path;
  if (name.rfind("synth:", 0) == 0) {
    const size_t colon = name.find(':', 6);
    path = SynthPath(name.substr(6, colon - 6), name.substr(colon + 1));
  } else {
    path = TestDataPath("models/" + name);
  }
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Load(path, {});
  EXPECT_TRUE(m.ok()) << name << ": " << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

// Sets the kernel ISA and numerics for one test and restores them afterwards.
class ScopedKernels {
 public:
  ScopedKernels(Isa isa, QuantNumerics numerics) : isa_(ActiveIsa()), numerics_(ActiveQuantNumerics()) {
    EXPECT_TRUE(SetActiveIsa(isa).ok());
    SetQuantNumerics(numerics);
  }
  ~ScopedKernels() {
    EXPECT_TRUE(SetActiveIsa(isa_).ok());
    SetQuantNumerics(numerics_);
  }

 private:
  Isa isa_;
  QuantNumerics numerics_;
};

std::vector<Isa> AvailableIsas() {
  return RunnableIsas();
}

std::unique_ptr<Session> MustCreate(const Model& model, const SessionOptions& options) {
  absl::StatusOr<std::unique_ptr<Session>> s = Session::Create(model, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

// Deterministic token ids below n_vocab.
std::vector<int32_t> Tokens(int64_t n, int32_t seed, int32_t n_vocab) {
  std::vector<int32_t> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(static_cast<int32_t>((seed * 131 + i * 17 + 3) % n_vocab));
  return out;
}

bool SameFloats(absl::Span<const float> a, absl::Span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Session j of a batch: its history, what it evaluates in the batch, and its options. The
// histories differ in length (different positions; for Mistral with n_batch 8 the KV ring
// wraps), the batch gives 1 token to most sessions and 2, 3, 5 or 8 to some, and one gets
// 11 (more than a row-exact step: it runs on its own inside the call).
struct SessionPlan {
  int64_t history = 0;
  int64_t batch_tokens = 0;
  SessionOptions options;
};

SessionPlan PlanFor(int j) {
  static const int64_t kBatchTokens[] = {1, 3, 1, 8, 2, 1, 11, 5};
  SessionPlan p;
  p.history = 1 + (j * 7) % 23;
  p.batch_tokens = kBatchTokens[j % 8];
  p.options.n_ctx = 64;
  p.options.n_batch = 8;
  p.options.n_threads = j % 3 == 0 ? 2 : 1;
  p.options.kv_type = j % 4 == 2 ? KvType::kF16 : KvType::kF32;
  return p;
}

// For each batch size: a batch, then (8 sessions) a second batch step of one token each,
// against clones evaluated alone.
void CheckBatchesMatchAlone(const Model& model, const std::vector<int>& batch_sizes, const std::string& what) {
  const int32_t n_vocab = model.config().n_vocab;
  for (const int n_sessions : batch_sizes) {
    std::vector<std::unique_ptr<Session>> sessions;
    for (int j = 0; j < n_sessions; ++j) {
      const SessionPlan p = PlanFor(j);
      sessions.push_back(MustCreate(model, p.options));
      ASSERT_NE(sessions.back(), nullptr);
      ASSERT_TRUE(sessions.back()->Eval(Tokens(p.history, j, n_vocab), nullptr, nullptr).ok());
    }
    for (int step = 0; step < (n_sessions == 8 ? 2 : 1); ++step) {
      std::vector<std::vector<int32_t>> tokens(n_sessions);
      std::vector<std::unique_ptr<Session>> alone;
      std::vector<BatchItem> items;
      for (int j = 0; j < n_sessions; ++j) {
        tokens[j] = Tokens(step == 0 ? PlanFor(j).batch_tokens : 1, 100 + j + step, n_vocab);
        absl::StatusOr<std::unique_ptr<Session>> clone = sessions[j]->Clone();
        ASSERT_TRUE(clone.ok()) << clone.status();
        alone.push_back(std::move(*clone));
        ASSERT_TRUE(alone[j]->Eval(tokens[j], nullptr, nullptr).ok());
        items.push_back({sessions[j].get(), tokens[j]});
      }
      std::vector<absl::Status> statuses(n_sessions);
      ASSERT_TRUE(EvalBatch(items, absl::MakeSpan(statuses)).ok());
      for (int j = 0; j < n_sessions; ++j) {
        ASSERT_TRUE(statuses[j].ok()) << statuses[j];
        ASSERT_EQ(sessions[j]->n_past(), alone[j]->n_past());
        ASSERT_TRUE(SameFloats(sessions[j]->last_logits(), alone[j]->last_logits()))
            << what << ": " << n_sessions << " sessions, step " << step << ", session " << j << " ("
            << tokens[j].size() << " tokens at position " << alone[j]->n_past() - tokens[j].size() << ")";
      }
    }
  }
}

class BatchInvarianceTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(BatchInvarianceTest, EachSessionMatchesItselfAloneOnEveryIsa) {
  const ModelCase& mc = GetParam();
  for (Isa isa : AvailableIsas()) {
    ScopedKernels kernels(isa, mc.exact ? QuantNumerics::kExact : QuantNumerics::kInt8);
    // Loaded under the ISA: AVX-512 packs quantized matrices into row panels at load.
    std::unique_ptr<Model> model = LoadModel(mc.name);
    ASSERT_NE(model, nullptr);
    // Every batch size for the tiny models; a spread of them for the (slower) synthetic ones.
    const std::vector<int> sizes = mc.name.rfind("synth:", 0) == 0 ? std::vector<int>{1, 3, 8}
                                                                   : std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8};
    CheckBatchesMatchAlone(*model, sizes, mc.name + " on " + std::string(IsaName(isa)) + (mc.exact ? " exact" : ""));
    std::printf("[batch] %-28s %-6s %s: batches of 1..8 sessions bit-identical to alone\n", mc.name.c_str(),
                IsaName(isa).data(), mc.exact ? "exact" : "int8");
  }
}

std::string CaseName(const ::testing::TestParamInfo<ModelCase>& info) {
  std::string name = info.param.name + (info.param.exact ? "_exact" : "");
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryModel, BatchInvarianceTest, ::testing::ValuesIn(kModels), CaseName);

// --- Chunking invariance --------------------------------------------------------------
//
// A prompt's logits do not depend on how its tokens were split into Eval calls: the server's
// prompt cache (server/) evaluates only the part after a reused prefix, so a request that
// finds 16 of its 45 prompt tokens cached runs 29, while alone it runs 45. Every split is
// checked bit for bit against one call of the whole prompt, then one decode step after it
// (which reads the KV rows each split wrote).
class ChunkInvarianceTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ChunkInvarianceTest, PromptLogitsDoNotDependOnEvalSplits) {
  const ModelCase& mc = GetParam();
  constexpr int64_t kPrompt = 45;
  const std::vector<std::vector<int64_t>> splits = {{1, 44}, {16, 29}, {17, 28}, {9, 8, 28}, {40, 5},
                                                    {44, 1}, {3, 3, 3, 3, 33}};
  for (Isa isa : AvailableIsas()) {
    // Wide rows only matter to the AVX-512 GEMMs' K chunks (scalar would take ~30 s each).
    if (mc.name.rfind("synth:phi2", 0) == 0 && isa != Isa::kAvx512) continue;
    ScopedKernels kernels(isa, mc.exact ? QuantNumerics::kExact : QuantNumerics::kInt8);
    std::unique_ptr<Model> model = LoadModel(mc.name);
    ASSERT_NE(model, nullptr);
    const int32_t n_vocab = model->config().n_vocab;
    const std::vector<int32_t> prompt = Tokens(kPrompt, 7, n_vocab);
    const std::vector<int32_t> next = Tokens(1, 8, n_vocab);
    SessionOptions o;
    o.n_ctx = 128;
    o.n_batch = 64;
    o.n_threads = 2;
    std::unique_ptr<Session> whole = MustCreate(*model, o);
    ASSERT_NE(whole, nullptr);
    ASSERT_TRUE(whole->Eval(prompt, nullptr, nullptr).ok());
    const std::vector<float> prompt_logits(whole->last_logits().begin(), whole->last_logits().end());
    ASSERT_TRUE(whole->Eval(next, nullptr, nullptr).ok());
    const std::vector<float> next_logits(whole->last_logits().begin(), whole->last_logits().end());
    for (const std::vector<int64_t>& split : splits) {
      std::unique_ptr<Session> s = MustCreate(*model, o);
      ASSERT_NE(s, nullptr);
      int64_t at = 0;
      std::string what = mc.name + (mc.exact ? " exact" : "") + " on " + std::string(IsaName(isa)) + ", split";
      for (const int64_t n : split) {
        ASSERT_TRUE(s->Eval(absl::MakeConstSpan(prompt).subspan(at, n), nullptr, nullptr).ok());
        at += n;
        what += " " + std::to_string(n);
      }
      ASSERT_EQ(at, kPrompt);
      ASSERT_TRUE(SameFloats(s->last_logits(), prompt_logits)) << what << ": prompt logits";
      ASSERT_TRUE(s->Eval(next, nullptr, nullptr).ok());
      ASSERT_TRUE(SameFloats(s->last_logits(), next_logits)) << what << ": next step";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModel, ChunkInvarianceTest, ::testing::ValuesIn(kModels), CaseName);
const ModelCase kWideModels[] = {{"synth:phi2:Q4_0"}, {"synth:phi2:Q8_0"}, {"synth:phi2:Q4_K_M"}};
INSTANTIATE_TEST_SUITE_P(WideRows, ChunkInvarianceTest, ::testing::ValuesIn(kWideModels), CaseName);

// Long prompts reach the prefill kernels that need SessionOptions::batch_invariant to stay
// row-exact (AMX tiles from 192 tokens, on CPUs that have them): with it, splits still give
// the whole prompt's logits bit for bit, on every ISA.
TEST(BatchInvariantSessionTest, LongPromptSplitsMatchTheWholePrompt) {
  for (Isa isa : AvailableIsas()) {
    ScopedKernels kernels(isa, QuantNumerics::kInt8);
    for (const char* name : {"synth:tiny-phi2:Q4_0", "synth:tiny-mistral:Q4_K_M"}) {
      std::unique_ptr<Model> model = LoadModel(name);
      ASSERT_NE(model, nullptr);
      const std::vector<int32_t> prompt = Tokens(230, 5, model->config().n_vocab);
      SessionOptions o;
      o.n_ctx = 256;
      o.n_batch = 256;
      o.n_threads = 2;
      o.batch_invariant = true;
      std::unique_ptr<Session> whole = MustCreate(*model, o);
      ASSERT_NE(whole, nullptr);
      ASSERT_TRUE(whole->Eval(prompt, nullptr, nullptr).ok());
      for (const int64_t first : {int64_t{1}, int64_t{37}, int64_t{200}, int64_t{229}}) {
        std::unique_ptr<Session> s = MustCreate(*model, o);
        ASSERT_NE(s, nullptr);
        ASSERT_TRUE(s->Eval(absl::MakeConstSpan(prompt).first(first), nullptr, nullptr).ok());
        ASSERT_TRUE(s->Eval(absl::MakeConstSpan(prompt).subspan(first), nullptr, nullptr).ok());
        ASSERT_TRUE(SameFloats(s->last_logits(), whole->last_logits()))
            << name << " on " << IsaName(isa) << ": " << first << " + " << prompt.size() - first << " tokens";
      }
    }
  }
}

// --- Per-session outcomes -------------------------------------------------------------

struct Snapshot {
  std::vector<int32_t> tokens;
  std::vector<float> logits;
  bool has_logits;
};
Snapshot Take(const Session& s) {
  return {{s.tokens().begin(), s.tokens().end()}, {s.last_logits().begin(), s.last_logits().end()}, s.has_logits()};
}
void ExpectUnchanged(const Session& s, const Snapshot& before) {
  EXPECT_EQ(std::vector<int32_t>(s.tokens().begin(), s.tokens().end()), before.tokens);
  EXPECT_EQ(s.has_logits(), before.has_logits);
  EXPECT_TRUE(SameFloats(s.last_logits(), before.logits));
}

class BatchOutcomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = LoadModel("tiny-llama2.f32.gguf");
    ASSERT_NE(model_, nullptr);
  }
  std::unique_ptr<Session> NewSession(int64_t history, int32_t n_ctx = 32) {
    SessionOptions o;
    o.n_ctx = n_ctx;
    std::unique_ptr<Session> s = MustCreate(*model_, o);
    if (s != nullptr) {
      EXPECT_TRUE(s->Eval(Tokens(history, static_cast<int32_t>(history), n_vocab()), nullptr, nullptr).ok());
    }
    return s;
  }
  int32_t n_vocab() const { return model_->config().n_vocab; }
  std::unique_ptr<Model> model_;
};

TEST_F(BatchOutcomeTest, AFailingSessionIsUntouchedAndTheOthersRun) {
  std::unique_ptr<Session> good1 = NewSession(3), bad_token = NewSession(4), full = NewSession(32, 32),
                           good2 = NewSession(6);
  const std::vector<int32_t> t1 = {5}, bad = {7, n_vocab()}, t_full = {9}, t2 = {11, 12};
  auto alone1 = good1->Clone(), alone2 = good2->Clone();
  ASSERT_TRUE(alone1.ok() && alone2.ok());
  ASSERT_TRUE((*alone1)->Eval(t1, nullptr, nullptr).ok());
  ASSERT_TRUE((*alone2)->Eval(t2, nullptr, nullptr).ok());
  const Snapshot bad_before = Take(*bad_token), full_before = Take(*full);

  const BatchItem items[] = {{good1.get(), t1}, {bad_token.get(), bad}, {full.get(), t_full}, {good2.get(), t2}};
  std::vector<absl::Status> statuses(4);
  ASSERT_TRUE(EvalBatch(items, absl::MakeSpan(statuses)).ok());
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(IsInvalidToken(statuses[1])) << statuses[1];
  EXPECT_TRUE(absl::IsOutOfRange(statuses[2])) << statuses[2];
  EXPECT_TRUE(statuses[3].ok()) << statuses[3];
  ExpectUnchanged(*bad_token, bad_before);
  ExpectUnchanged(*full, full_before);
  EXPECT_TRUE(SameFloats(good1->last_logits(), (*alone1)->last_logits()));
  EXPECT_TRUE(SameFloats(good2->last_logits(), (*alone2)->last_logits()));
  // The failed sessions still work, alone or in the next batch.
  std::vector<absl::Status> again(2);
  const BatchItem retry[] = {{bad_token.get(), t1}, {good1.get(), t1}};
  ASSERT_TRUE(EvalBatch(retry, absl::MakeSpan(again)).ok());
  EXPECT_TRUE(again[0].ok() && again[1].ok());
  EXPECT_EQ(bad_token->n_past(), 5);
}

TEST_F(BatchOutcomeTest, EmptyTokenListsAreNoOps) {
  std::unique_ptr<Session> a = NewSession(3), b = NewSession(2);
  const Snapshot before = Take(*a);
  const std::vector<int32_t> none, one = {4};
  const BatchItem items[] = {{a.get(), none}, {b.get(), one}};
  std::vector<absl::Status> statuses(2);
  ASSERT_TRUE(EvalBatch(items, absl::MakeSpan(statuses)).ok());
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_TRUE(statuses[1].ok());
  ExpectUnchanged(*a, before);
  EXPECT_EQ(b->n_past(), 3);
}

TEST_F(BatchOutcomeTest, MalformedCallsTouchNothing) {
  std::unique_ptr<Session> a = NewSession(3), b = NewSession(2);
  std::unique_ptr<Model> other = LoadModel("tiny-llama2.q8_0.gguf");
  ASSERT_NE(other, nullptr);
  std::unique_ptr<Session> c = MustCreate(*other, SessionOptions{});
  const Snapshot a_before = Take(*a), b_before = Take(*b);
  const std::vector<int32_t> one = {4};
  std::vector<absl::Status> two(2), three(3);

  const BatchItem repeated[] = {{a.get(), one}, {b.get(), one}, {a.get(), one}};
  EXPECT_TRUE(absl::IsInvalidArgument(EvalBatch(repeated, absl::MakeSpan(three))));
  const BatchItem with_null[] = {{a.get(), one}, {nullptr, one}};
  EXPECT_TRUE(absl::IsInvalidArgument(EvalBatch(with_null, absl::MakeSpan(two))));
  const BatchItem mixed[] = {{a.get(), one}, {c.get(), one}};
  EXPECT_TRUE(absl::IsInvalidArgument(EvalBatch(mixed, absl::MakeSpan(two))));
  const BatchItem fine[] = {{a.get(), one}, {b.get(), one}};
  EXPECT_TRUE(absl::IsInvalidArgument(EvalBatch(fine, absl::MakeSpan(three))));
  ExpectUnchanged(*a, a_before);
  ExpectUnchanged(*b, b_before);
  EXPECT_EQ(c->n_past(), 0);
}

// A serial Parallel that sets `flag` on its n-th For call: a cancellation arriving in the
// middle of a batched pass, at a reproducible point.
class CancelAfterCalls final : public Parallel {
 public:
  CancelAfterCalls(std::atomic<bool>* flag, int n) : flag_(flag), left_(n) {}
  int n_threads() const override { return 1; }
  void For(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn) override {
    if (--left_ == 0) flag_->store(true);
    fn(0, n);
  }

 private:
  std::atomic<bool>* flag_;
  int left_;
};

// ForwardBatch drops a cancelled item between layers (the rows after it move up); the
// items before and after it keep their exact logits. Checked for a cancel before the
// first layer and one during the first layer.
TEST_F(BatchOutcomeTest, ACancelledItemLeavesThePassAndTheOthersAreExact) {
  for (const int cancel_at_call : {0, 3}) {
    std::unique_ptr<Session> a = NewSession(3), b = NewSession(5), c = NewSession(2);
    const std::vector<int32_t> ta = {1, 2}, tb = {3, 4, 5}, tc = {6};
    auto alone_a = a->Clone(), alone_c = c->Clone();
    ASSERT_TRUE(alone_a.ok() && alone_c.ok());
    ASSERT_TRUE((*alone_a)->Eval(ta, nullptr, nullptr).ok());
    ASSERT_TRUE((*alone_c)->Eval(tc, nullptr, nullptr).ok());
    ASSERT_TRUE(*a->PrepareBatchStep(ta));
    ASSERT_TRUE(*b->PrepareBatchStep(tb));
    ASSERT_TRUE(*c->PrepareBatchStep(tc));
    std::atomic<bool> cancel_b{cancel_at_call == 0};
    CancelAfterCalls par(&cancel_b, cancel_at_call);
    const BatchForwardItem items[] = {{ta, a->n_past(), &a->kv_rows(), nullptr},
                                      {tb, b->n_past(), &b->kv_rows(), &cancel_b},
                                      {tc, c->n_past(), &c->kv_rows(), nullptr}};
    ForwardBuffers buf;
    std::vector<absl::Status> statuses(3);
    ASSERT_TRUE(ForwardBatch(*model_, items, par, &buf, absl::MakeSpan(statuses)).ok());
    EXPECT_TRUE(statuses[0].ok());
    EXPECT_TRUE(absl::IsCancelled(statuses[1])) << statuses[1];
    EXPECT_TRUE(statuses[2].ok());
    const size_t nv = static_cast<size_t>(n_vocab());
    EXPECT_TRUE(SameFloats(absl::MakeConstSpan(buf.logits.data(), nv), (*alone_a)->last_logits()));
    EXPECT_TRUE(SameFloats(absl::MakeConstSpan(buf.logits.data() + 2 * nv, nv), (*alone_c)->last_logits()));
  }
}

TEST_F(BatchOutcomeTest, ForwardBatchRejectsItemsBeyondRowExactSize) {
  std::unique_ptr<Session> a = NewSession(1);
  const std::vector<int32_t> too_many = Tokens(kRowExactMaxTokens + 1, 1, n_vocab());
  const BatchForwardItem items[] = {{too_many, a->n_past(), &a->kv_rows(), nullptr}};
  ForwardBuffers buf;
  std::vector<absl::Status> statuses(1);
  EXPECT_TRUE(absl::IsInvalidArgument(ForwardBatch(*model_, items, SerialParallel(), &buf, absl::MakeSpan(statuses))));
}

}  // namespace
}  // namespace ember::testing
