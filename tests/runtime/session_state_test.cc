// Session state (lib/runtime/session_state.h) and the Session operations built on the same
// KV bookkeeping: save -> load continues bit-identically (logits compared with memcmp) on
// Llama, Mistral (past its sliding window) and Phi-2 with F32 and F16 KV, greedy and
// sampled; hostile blobs (every truncation, flipped bytes, forged headers, another model,
// another KV type or context) are rejected with the session unchanged; atomic files;
// clone, truncate, eval_reuse and tokens.
#include "lib/runtime/session_state.h"

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/atomic_file.h"
#include "lib/base/crc32c.h"
#include "lib/base/errors.h"
#include "lib/runtime/sampler.h"
#include "lib/runtime/session.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

using ::testing::HasSubstr;

const Model& LoadCached(const std::string& name, WeightFormat format = WeightFormat::kAsStored) {
  static auto* models = new std::map<std::pair<std::string, int>, std::unique_ptr<Model>>();
  auto& slot = (*models)[{name, static_cast<int>(format)}];
  if (!slot) {
    ModelLoadOptions options;
    options.weight_format = format;
    auto m = Model::Load(TestDataPath("models/" + name), options);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) slot = std::move(*m);
  }
  return *slot;
}
const Model& Stories() { return LoadCached("stories260K.gguf"); }

std::unique_ptr<Session> MustCreate(const Model& model, const SessionOptions& options) {
  auto s = Session::Create(model, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

// Deterministic ids every tokenizer of the fixtures has.
std::vector<int32_t> Ids(int n, int salt = 0) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(1 + (i * 37 + salt * 101 + 11) % 500);
  return ids;
}

int32_t Sampleable(const Model& m) { return std::min(m.config().n_vocab, m.tokenizer().n_sampleable()); }

SamplerParams Sampling(uint64_t seed) {
  SamplerParams p;
  p.temperature = 0.9f;
  p.top_k = 50;
  p.seed = seed;
  return p;
}

bool SameLogits(const Session& a, const Session& b) {
  if (a.has_logits() != b.has_logits()) return false;
  if (!a.has_logits()) return true;
  const auto la = a.last_logits(), lb = b.last_logits();
  return la.size() == lb.size() && std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)) == 0;
}

std::vector<int32_t> TokensOf(const Session& s) { return {s.tokens().begin(), s.tokens().end()}; }

// What a caller can observe of a session, to check that failed calls change nothing.
struct Snapshot {
  explicit Snapshot(const Session& s)
      : tokens(TokensOf(s)), has_logits(s.has_logits()), logits(s.last_logits().begin(), s.last_logits().end()) {}
  bool Matches(const Session& s) const {
    return TokensOf(s) == tokens && s.has_logits() == has_logits &&
           std::equal(logits.begin(), logits.end(), s.last_logits().begin(), s.last_logits().end(),
                      [](float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; });
  }
  std::vector<int32_t> tokens;
  bool has_logits;
  std::vector<float> logits;
};

// One step on both sessions: sample (or argmax) with each one's sampler, feed it, and
// require identical tokens and bit-identical logits.
void StepBoth(Session& a, Sampler& sa, Session& b, Sampler& sb, int32_t n_sampleable, const std::string& where) {
  const int32_t ta = sa.Sample(a.last_logits(), n_sampleable, a.tokens());
  const int32_t tb = sb.Sample(b.last_logits(), n_sampleable, b.tokens());
  ASSERT_EQ(ta, tb) << where;
  ASSERT_TRUE(a.Eval({ta}, nullptr, nullptr).ok()) << where;
  ASSERT_TRUE(b.Eval({tb}, nullptr, nullptr).ok()) << where;
  ASSERT_TRUE(SameLogits(a, b)) << where;
}

// ---------------------------------------------------------------------------------------
// Bit-identical continuation on every architecture and KV type.

struct ModelCase {
  const char* file;
  bool windowed;
};

class ContinuationTest : public ::testing::TestWithParam<std::tuple<ModelCase, KvType>> {};

TEST_P(ContinuationTest, SaveLoadContinuesBitIdentically) {
  const auto [mc, kv_type] = GetParam();
  const Model& model = LoadCached(mc.file);
  SessionOptions options;
  options.n_ctx = 96;
  options.n_batch = 8;  // Mistral: a ring of 16 + 8 slots that wraps many times below
  options.kv_type = kv_type;
  const int32_t n_sampleable = Sampleable(model);

  auto a = MustCreate(model, options);
  Sampler sa(Sampling(7));
  ASSERT_TRUE(a->Eval(Ids(21), nullptr, nullptr).ok());  // past the window of 16
  for (int i = 0; i < 6; ++i) {  // advance the RNG and the history
    const int32_t t = sa.Sample(a->last_logits(), n_sampleable, a->tokens());
    ASSERT_TRUE(a->Eval({t}, nullptr, nullptr).ok());
  }
  absl::StatusOr<std::string> blob = SaveSessionState(*a, sa);
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->size(), SessionStateSize(*a, sa));

  // The target has other content and another seed: everything must come from the blob.
  auto b = MustCreate(model, options);
  ASSERT_TRUE(b->Eval(Ids(30, 3), nullptr, nullptr).ok());
  Sampler sb(Sampling(99));
  ASSERT_TRUE(LoadSessionState(*blob, b.get(), &sb).ok());
  EXPECT_EQ(TokensOf(*b), TokensOf(*a));
  ASSERT_TRUE(SameLogits(*a, *b));

  for (int i = 0; i < 12; ++i) StepBoth(*a, sa, *b, sb, n_sampleable, "sampled step " + std::to_string(i));
  Sampler greedy_a(SamplerParams{}), greedy_b(SamplerParams{});
  for (int i = 0; i < 6; ++i) StepBoth(*a, greedy_a, *b, greedy_b, n_sampleable, "greedy step " + std::to_string(i));
  // A multi-token chunk after the load, too.
  ASSERT_TRUE(a->Eval(Ids(11, 5), nullptr, nullptr).ok());
  ASSERT_TRUE(b->Eval(Ids(11, 5), nullptr, nullptr).ok());
  EXPECT_TRUE(SameLogits(*a, *b));

  // A windowed state holds only the rows the window needs; a full-attention one all of them.
  uint32_t n_kv_valid = 0, first_row = 0;
  std::memcpy(&n_kv_valid, blob->data() + 48, 4);
  std::memcpy(&first_row, blob->data() + 52, 4);
  EXPECT_EQ(n_kv_valid, 27u);
  EXPECT_EQ(first_row, mc.windowed ? 27u - model.config().sliding_window + 1 : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Models, ContinuationTest,
    ::testing::Combine(::testing::Values(ModelCase{"tiny-llama2.f32.gguf", false},
                                         ModelCase{"tiny-mistral.q8_0.gguf", true},
                                         ModelCase{"tiny-phi2.f32.gguf", false}),
                       ::testing::Values(KvType::kF32, KvType::kF16)),
    [](const auto& info) {
      std::string name = std::get<0>(info.param).file;
      name = name.substr(0, name.find('.'));
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      return name + (std::get<1>(info.param) == KvType::kF32 ? "_F32" : "_F16");
    });

// A state loads into a session with another n_ctx / n_batch if its tokens fit; a
// sliding-window state (window rows only) does not fit a session too short to be windowed.
TEST(SessionStateTest, OtherContextSizesAcceptedWhenTheyFit) {
  const Model& mistral = LoadCached("tiny-mistral.q8_0.gguf");
  SessionOptions options;
  options.n_ctx = 96;
  options.n_batch = 8;
  auto a = MustCreate(mistral, options);
  Sampler sampler(Sampling(1));
  ASSERT_TRUE(a->Eval(Ids(40), nullptr, nullptr).ok());
  const std::string blob = *SaveSessionState(*a, sampler);

  SessionOptions other = options;
  other.n_ctx = 56;  // 40 + 5 x 3 tokens fit
  other.n_batch = 3;
  auto b = MustCreate(mistral, other);
  Sampler sb(Sampling(1));
  ASSERT_TRUE(LoadSessionState(blob, b.get(), &sb).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(a->Eval(Ids(3, i), nullptr, nullptr).ok());
    ASSERT_TRUE(b->Eval(Ids(3, i), nullptr, nullptr).ok());
    // Chunks of 3 on both sides (b's n_batch) compute the same rows as a's single chunk.
    ASSERT_TRUE(SameLogits(*a, *b)) << i;
  }

  SessionOptions too_short = options;
  too_short.n_ctx = 32;  // 40 tokens do not fit
  auto c = MustCreate(mistral, too_short);
  EXPECT_EQ(LoadSessionState(blob, c.get(), &sb).code(), absl::StatusCode::kOutOfRange);

  // n_ctx <= window: full attention, which needs rows the windowed state does not have.
  auto small = MustCreate(mistral, options);
  ASSERT_TRUE(small->Eval(Ids(12), nullptr, nullptr).ok());  // still inside the window: all rows
  const std::string small_blob = *SaveSessionState(*small, sampler);
  SessionOptions unwindowed = options;
  unwindowed.n_ctx = 16;
  auto d = MustCreate(mistral, unwindowed);
  const absl::Status small_st = LoadSessionState(small_blob, d.get(), &sb);
  EXPECT_TRUE(small_st.ok()) << small_st;
  ASSERT_TRUE(small->Eval(Ids(4, 9), nullptr, nullptr).ok());  // 16 tokens: row 0 dropped
  auto e = MustCreate(mistral, unwindowed);
  const absl::Status st = LoadSessionState(*SaveSessionState(*small, sampler), e.get(), &sb);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("full-attention"));
  EXPECT_EQ(e->n_past(), 0);
}

TEST(SessionStateTest, KvTypeMismatchRejected) {
  SessionOptions f16;
  f16.n_ctx = 32;
  f16.kv_type = KvType::kF16;
  auto a = MustCreate(Stories(), f16);
  Sampler sampler(SamplerParams{});
  ASSERT_TRUE(a->Eval(Ids(5), nullptr, nullptr).ok());
  const std::string blob = *SaveSessionState(*a, sampler);
  SessionOptions f32 = f16;
  f32.kv_type = KvType::kF32;
  auto b = MustCreate(Stories(), f32);
  const absl::Status st = LoadSessionState(blob, b.get(), &sampler);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("F16"));
}

// ---------------------------------------------------------------------------------------
// Hostile blobs: every failure leaves session and sampler exactly as they were.

class HostileStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.n_ctx = 32;
    auto src = MustCreate(Stories(), options_);
    Sampler src_sampler(Sampling(5));
    ASSERT_TRUE(src->Eval(Ids(4), nullptr, nullptr).ok());
    src_sampler.Sample(src->last_logits(), Sampleable(Stories()), src->tokens());
    blob_ = *SaveSessionState(*src, src_sampler);

    target_ = MustCreate(Stories(), options_);
    ASSERT_TRUE(target_->Eval(Ids(6, 2), nullptr, nullptr).ok());
    sampler_ = std::make_unique<Sampler>(Sampling(77));
    sampler_->Sample(target_->last_logits(), Sampleable(Stories()), target_->tokens());
    before_ = std::make_unique<Snapshot>(*target_);
    rng_before_ = sampler_->SaveRngState();
  }

  // Loads `blob` into the target, expects failure and an unchanged target.
  void ExpectRejected(std::string_view blob, const std::string& where) { Rejection(blob, where).IgnoreError(); }
  absl::Status Rejection(std::string_view blob, const std::string& where) {
    const absl::Status st = LoadSessionState(blob, target_.get(), sampler_.get());
    EXPECT_FALSE(st.ok()) << where;
    EXPECT_FALSE(st.message().empty()) << where;
    return st;
  }
  void ExpectUnchanged(const std::string& where) {
    EXPECT_TRUE(before_->Matches(*target_)) << where;
    EXPECT_EQ(sampler_->SaveRngState(), rng_before_) << where;
  }

  // The blob with a u32 header field replaced and the checksum recomputed (a forger).
  std::string Forged(size_t offset, uint32_t value) const {
    std::string b = blob_;
    std::memcpy(b.data() + offset, &value, sizeof value);
    const uint32_t crc = Crc32c(0, b.data(), b.size() - 4);
    std::memcpy(b.data() + b.size() - 4, &crc, sizeof crc);
    return b;
  }

  SessionOptions options_;
  std::string blob_;
  std::unique_ptr<Session> target_;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<Snapshot> before_;
  std::string rng_before_;
};

TEST_F(HostileStateTest, EveryTruncationRejected) {
  ASSERT_LT(blob_.size(), 64u * 1024);
  for (size_t n = 0; n < blob_.size(); ++n) {
    ExpectRejected(std::string_view(blob_.data(), n), "length " + std::to_string(n));
    if (n % 509 == 0 || n + 8 > blob_.size()) ExpectUnchanged("length " + std::to_string(n));
  }
  ExpectRejected(blob_ + '\0', "one trailing byte");
  ExpectUnchanged("after truncations");
}

TEST_F(HostileStateTest, EveryFlippedByteRejected) {
  for (size_t i = 0; i < blob_.size(); ++i) {
    for (const uint8_t mask : {0x01, 0x80}) {
      std::string b = blob_;
      b[i] = static_cast<char>(b[i] ^ mask);
      ExpectRejected(b, "byte " + std::to_string(i));
    }
    if (i % 509 == 0) ExpectUnchanged("byte " + std::to_string(i));
  }
  ExpectUnchanged("after flips");
}

TEST_F(HostileStateTest, ForgedHeadersRejected) {
  const absl::Status version = Rejection(Forged(8, kSessionStateVersion + 1), "next version");
  EXPECT_EQ(version.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(version.message(), HasSubstr("version " + std::to_string(kSessionStateVersion + 1)));
  // Offsets as documented in session_state.h.
  const std::vector<std::pair<size_t, uint32_t>> fields = {
      {12, 64},           {16, 0x12345678},   {24, 2},          {28, 9},          {32, 1},
      {36, 100},          {40, 1},            {40, 7},          {44, 31},         {44, 0xFFFFFFFF},
      {44, 3},            {48, 5},            {48, 0xFFFFFFFF}, {52, 4},          {52, 5},
      {56, 2},            {60, 0},            {60, 1 << 20},    {64, 12345},      {72, 2},
      {72, 4},            {76, 1},            {76, 0xFFFFFFFF}};
  for (const auto& [offset, value] : fields) {
    ExpectRejected(Forged(offset, value), "field at " + std::to_string(offset) + " = " + std::to_string(value));
  }
  ExpectUnchanged("forged fields");
  // Consistent sizes but hostile content: a token id out of range, a broken RNG state.
  ExpectRejected(Forged(80, 100000), "token id");
  std::string bad_rng = blob_;  // the sampler state's last words, just before the checksum
  std::memset(bad_rng.data() + blob_.size() - 4 - 10, 'x', 6);
  const uint32_t crc = Crc32c(0, bad_rng.data(), bad_rng.size() - 4);
  std::memcpy(bad_rng.data() + bad_rng.size() - 4, &crc, 4);
  EXPECT_THAT(Rejection(bad_rng, "rng").message(), HasSubstr("sampler state"));
  ExpectUnchanged("hostile content");
  // And the untouched blob still loads.
  EXPECT_TRUE(LoadSessionState(blob_, target_.get(), sampler_.get()).ok());
}

TEST_F(HostileStateTest, AnotherModelsStateRejected) {
  const Model& llama = LoadCached("tiny-llama2.f32.gguf");
  auto other = MustCreate(llama, options_);
  Sampler s(SamplerParams{});
  ASSERT_TRUE(other->Eval(Ids(4), nullptr, nullptr).ok());
  const absl::Status st = Rejection(*SaveSessionState(*other, s), "llama state");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("different model"));
  ExpectUnchanged("llama state");
  ExpectRejected("definitely not a state blob", "text");
  ExpectRejected("", "empty");
  ExpectUnchanged("garbage");
}

TEST(ModelFingerprintTest, IdentifiesWhatTheModelComputes) {
  const Model& llama = LoadCached("tiny-llama2.f32.gguf");
  auto again = Model::Load(TestDataPath("models/tiny-llama2.f32.gguf"), {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->fingerprint(), llama.fingerprint());
  EXPECT_NE(LoadCached("tiny-llama2.q8_0.gguf").fingerprint(), llama.fingerprint());
  EXPECT_NE(LoadCached("tiny-llama2.f32.gguf", WeightFormat::kQ8_0).fingerprint(), llama.fingerprint());
  EXPECT_NE(LoadCached("tiny-phi2.f32.gguf").fingerprint(), llama.fingerprint());
  EXPECT_NE(Stories().fingerprint(), llama.fingerprint());
}

TEST(SamplerRngStateTest, RoundTripsAndRejectsGarbage) {
  Sampler a(Sampling(3));
  std::vector<float> logits(64);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i % 7);
  for (int i = 0; i < 5; ++i) a.Sample(logits, 64, {});
  Sampler b(Sampling(4));
  ASSERT_TRUE(b.LoadRngState(a.SaveRngState()).ok());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.Sample(logits, 64, {}), b.Sample(logits, 64, {}));
  const std::string saved = b.SaveRngState();
  const std::string full = a.SaveRngState();
  for (const std::string& bad : {std::string(), std::string("1 2 3"), full.substr(0, full.size() / 2),
                                 full + " 7", std::string("x") + full}) {
    EXPECT_FALSE(b.LoadRngState(bad).ok()) << bad.substr(0, 40);
    EXPECT_EQ(b.SaveRngState(), saved);
  }
}

// ---------------------------------------------------------------------------------------
// Files.

TEST(SessionStateFileTest, SaveLoadAndAtomicReplace) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "ember_state_files";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "chat.state").string();
  SessionOptions options;
  options.n_ctx = 64;
  auto a = MustCreate(Stories(), options);
  Sampler sa(Sampling(2));
  ASSERT_TRUE(a->Eval(Ids(3), nullptr, nullptr).ok());
  ASSERT_TRUE(SaveSessionStateFile(*a, sa, path).ok());
  const std::string old_bytes = ReadFileBytes(path);
  EXPECT_EQ(old_bytes, *SaveSessionState(*a, sa));

  // (A write that fails half way: session_state_write_failure_test.cc, POSIX only.)
  ASSERT_TRUE(a->Eval(Ids(20, 1), nullptr, nullptr).ok());

  // A successful save replaces it; the loaded session continues like the original.
  ASSERT_TRUE(SaveSessionStateFile(*a, sa, path).ok());
  auto b = MustCreate(Stories(), options);
  Sampler sb(Sampling(9));
  ASSERT_TRUE(LoadSessionStateFile(path, b.get(), &sb).ok());
  StepBoth(*a, sa, *b, sb, Sampleable(Stories()), "after file load");

  // Errors name the file.
  const absl::Status missing = LoadSessionStateFile((dir / "missing").string(), b.get(), &sb);
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.message(), HasSubstr("missing"));
  ASSERT_TRUE(WriteFileAtomically((dir / "junk").string(), "junk").ok());
  EXPECT_THAT(LoadSessionStateFile((dir / "junk").string(), b.get(), &sb).message(), HasSubstr("junk"));
  // Renaming over a directory fails; the directory and its content stay, no temporary.
  std::filesystem::create_directories(dir / "sub" / "inner");
  EXPECT_FALSE(SaveSessionStateFile(*a, sa, (dir / "sub").string()).ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "sub" / "inner"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 3);
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------
// Clone, truncate, eval_reuse.

TEST(SessionCloneTest, CloneIsIndependent) {
  for (const char* file : {"tiny-llama2.f32.gguf", "tiny-mistral.q8_0.gguf"}) {
    const Model& model = LoadCached(file);
    SessionOptions options;
    options.n_ctx = 80;
    options.n_batch = 8;
    auto a = MustCreate(model, options);
    ASSERT_TRUE(a->Eval(Ids(30), nullptr, nullptr).ok());
    auto c = a->Clone();
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(TokensOf(**c), TokensOf(*a));
    EXPECT_TRUE(SameLogits(**c, *a));
    ASSERT_TRUE((*c)->Eval(Ids(5, 1), nullptr, nullptr).ok());
    ASSERT_TRUE(a->Eval(Ids(7, 2), nullptr, nullptr).ok());
    for (const auto& [session, tail] : {std::pair{a.get(), Ids(7, 2)}, std::pair{c->get(), Ids(5, 1)}}) {
      auto fresh = MustCreate(model, options);
      ASSERT_TRUE(fresh->Eval(Ids(30), nullptr, nullptr).ok());
      ASSERT_TRUE(fresh->Eval(tail, nullptr, nullptr).ok());
      EXPECT_TRUE(SameLogits(*session, *fresh)) << file;
      EXPECT_EQ(TokensOf(*session), TokensOf(*fresh)) << file;
    }
  }
}

TEST(SessionTruncateTest, ContinuingMatchesAFreshPrefix) {
  for (const char* file : {"tiny-llama2.f32.gguf", "tiny-phi2.f32.gguf", "tiny-mistral.q8_0.gguf"}) {
    const Model& model = LoadCached(file);
    SessionOptions options;
    options.n_ctx = 80;
    options.n_batch = 8;
    auto a = MustCreate(model, options);
    ASSERT_TRUE(a->Eval(Ids(24), nullptr, nullptr).ok());
    ASSERT_TRUE(a->Eval(Ids(6, 1), nullptr, nullptr).ok());
    ASSERT_TRUE(a->Truncate(40).ok());  // beyond n_past: nothing to do
    EXPECT_EQ(a->n_past(), 30);
    EXPECT_TRUE(a->has_logits());
    ASSERT_TRUE(a->Truncate(24).ok()) << file;
    EXPECT_EQ(TokensOf(*a), Ids(24));
    EXPECT_FALSE(a->has_logits());
    ASSERT_TRUE(a->Eval(Ids(5, 2), nullptr, nullptr).ok());
    auto fresh = MustCreate(model, options);
    ASSERT_TRUE(fresh->Eval(Ids(24), nullptr, nullptr).ok());
    ASSERT_TRUE(fresh->Eval(Ids(5, 2), nullptr, nullptr).ok());
    EXPECT_TRUE(SameLogits(*a, *fresh)) << file;
    EXPECT_EQ(a->Truncate(-1).code(), absl::StatusCode::kInvalidArgument);
    ASSERT_TRUE(a->Truncate(0).ok());
    EXPECT_EQ(a->n_past(), 0);
  }
}

TEST(SessionTruncateTest, SlidingWindowBeyondTheRingUnsupported) {
  const Model& mistral = LoadCached("tiny-mistral.q8_0.gguf");
  SessionOptions options;
  options.n_ctx = 80;
  options.n_batch = 8;  // ring of 24: holds positions [n_past - 24, n_past)
  auto a = MustCreate(mistral, options);
  ASSERT_TRUE(a->Eval(Ids(40), nullptr, nullptr).ok());
  const Snapshot before(*a);
  const absl::Status st = a->Truncate(20);  // needs rows 5..19, long overwritten
  EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(st.message(), HasSubstr("sliding window"));
  EXPECT_TRUE(before.Matches(*a));
  ASSERT_TRUE(a->Truncate(32).ok());  // needs rows 17..31: held
  ASSERT_TRUE(a->Eval(Ids(4, 3), nullptr, nullptr).ok());
  auto fresh = MustCreate(mistral, options);
  ASSERT_TRUE(fresh->Eval(Ids(32), nullptr, nullptr).ok());
  ASSERT_TRUE(fresh->Eval(Ids(4, 3), nullptr, nullptr).ok());
  EXPECT_TRUE(SameLogits(*a, *fresh));
}

std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(SessionEvalReuseTest, KeepsTheCommonPrefixAndEvaluatesTheRest) {
  for (const char* file : {"tiny-llama2.f32.gguf", "tiny-phi2.f32.gguf", "tiny-mistral.q8_0.gguf"}) {
    const Model& model = LoadCached(file);
    SessionOptions options;
    options.n_ctx = 80;
    options.n_batch = 8;
    auto s = MustCreate(model, options);
    const std::vector<int32_t> turn1 = Ids(12);
    const std::vector<int32_t> turn2 = Concat(turn1, Ids(5, 1));
    const std::vector<int32_t> other2 = Concat(turn1, Ids(6, 2));
    int32_t reused = -1;
    // Reference: a fresh session evaluating the same pieces in the same calls.
    auto expect_like = [&](const std::vector<std::vector<int32_t>>& pieces, const std::string& where) {
      auto fresh = MustCreate(model, options);
      for (const auto& p : pieces) ASSERT_TRUE(fresh->Eval(p, nullptr, nullptr).ok());
      EXPECT_TRUE(SameLogits(*s, *fresh)) << file << " " << where;
      EXPECT_EQ(TokensOf(*s), TokensOf(*fresh)) << file << " " << where;
    };

    ASSERT_TRUE(s->EvalReuse(turn1, nullptr, &reused).ok());
    EXPECT_EQ(reused, 0);
    expect_like({turn1}, "turn1");
    ASSERT_TRUE(s->EvalReuse(turn2, nullptr, &reused).ok());
    EXPECT_EQ(reused, 12);
    expect_like({turn1, Ids(5, 1)}, "turn2");
    ASSERT_TRUE(s->EvalReuse(turn2, nullptr, &reused).ok());  // already there: nothing to do
    EXPECT_EQ(reused, 17);
    ASSERT_TRUE(s->EvalReuse(other2, nullptr, &reused).ok());  // diverges after turn1
    EXPECT_EQ(reused, 12);
    expect_like({turn1, Ids(6, 2)}, "other2");
    ASSERT_TRUE(s->EvalReuse(turn1, nullptr, &reused).ok());  // a prefix: re-evaluates the last id
    EXPECT_EQ(reused, 11);
    expect_like({std::vector<int32_t>(turn1.begin(), turn1.end() - 1), {turn1.back()}}, "prefix");

    // Errors leave the session as it was, and it goes on exactly.
    const Snapshot before(*s);
    EXPECT_TRUE(IsInvalidToken(s->EvalReuse(Concat(turn1, {-4}), nullptr, &reused)));
    EXPECT_TRUE(before.Matches(*s));
    EXPECT_EQ(s->EvalReuse(Concat(turn1, Ids(80, 3)), nullptr, &reused).code(), absl::StatusCode::kOutOfRange);
    EXPECT_TRUE(before.Matches(*s));
    std::atomic<bool> cancel{true};
    EXPECT_EQ(s->EvalReuse(other2, &cancel, &reused).code(), absl::StatusCode::kCancelled);
    EXPECT_TRUE(before.Matches(*s));
    ASSERT_TRUE(s->EvalReuse(turn2, nullptr, &reused).ok());
    EXPECT_EQ(reused, 12);
    expect_like({turn1, Ids(5, 1)}, "after errors");
    ASSERT_TRUE(s->EvalReuse({}, nullptr, &reused).ok());
    EXPECT_EQ(s->n_past(), 0);
  }
}

TEST(SessionEvalReuseTest, SlidingWindowStartsOverWhenTheRingMovedOn) {
  const Model& mistral = LoadCached("tiny-mistral.q8_0.gguf");
  SessionOptions options;
  options.n_ctx = 80;
  options.n_batch = 8;
  auto s = MustCreate(mistral, options);
  ASSERT_TRUE(s->Eval(Ids(40), nullptr, nullptr).ok());
  const std::vector<int32_t> ids = Concat(Ids(10), Ids(4, 1));  // Ids(10) is a prefix of Ids(40)
  int32_t reused = -1;
  ASSERT_TRUE(s->EvalReuse(ids, nullptr, &reused).ok());
  EXPECT_EQ(reused, 0);
  auto fresh = MustCreate(mistral, options);
  ASSERT_TRUE(fresh->Eval(ids, nullptr, nullptr).ok());
  EXPECT_TRUE(SameLogits(*s, *fresh));
}

}  // namespace
}  // namespace ember::testing
