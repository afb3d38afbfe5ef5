// The grammar state in session state (lib/runtime/session_state.h, version 2): an output
// constrained by a JSON Schema, saved part way and loaded into another session with the
// same sampler options, continues with exactly the tokens and text of the uninterrupted
// run (stories260K, a real model, and a tiny random-weight one; greedy and sampled; saved
// at several points, at the end after EOS included). A grammar that does not accept the
// saved text, a corrupted grammar section or inconsistent grammar fields are refused with
// the target unchanged (tokens, logits, RNG and grammar state, checked by sampling on);
// sessions without a grammar, blobs without one and version 1 blobs load as documented.
#include <cctype>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/crc32c.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/runtime/sampler.h"
#include "lib/runtime/session.h"
#include "lib/runtime/session_state.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSchema[] = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 6},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 2}
  },
  "required": ["name", "age"],
  "additionalProperties": false
})";

// A language no JSON text is in: a saved JSON state cannot be replayed through it.
constexpr char kDigits[] = "root ::= [0-9]{1,40}\n";

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
const Model& Stories() { return LoadCached("stories260K.gguf"); }

std::shared_ptr<const grammar::Program> Compile(grammar::GrammarKind kind, std::string_view text) {
  auto p = grammar::CompileConstraint(kind, text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}
const std::shared_ptr<const grammar::Program>& Schema() {
  static const auto* program = new std::shared_ptr<const grammar::Program>(
      Compile(grammar::GrammarKind::kJsonSchema, kSchema));
  return *program;
}

SessionOptions Options(float temperature, uint64_t seed, std::shared_ptr<const grammar::Program> program) {
  SessionOptions o;
  o.n_ctx = 512;
  o.sampler.temperature = temperature;
  o.sampler.top_k = temperature > 0 ? 40 : 0;
  o.sampler.seed = seed;
  o.sampler.grammar = std::move(program);
  return o;
}

std::unique_ptr<Session> MustCreate(const Model& model, const SessionOptions& options) {
  auto s = Session::Create(model, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

// Deterministic prompt ids every fixture's tokenizer has.
std::vector<int32_t> Ids(int n, int salt = 0) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(1 + (i * 37 + salt * 101 + 11) % 500);
  return ids;
}

std::string Save(const Session& s) {
  absl::StatusOr<std::string> blob = SaveSessionState(s, s.sampler());
  EXPECT_TRUE(blob.ok()) << blob.status();
  return blob.ok() ? *blob : std::string();
}

absl::Status Load(std::string_view blob, Session* s) { return LoadSessionState(blob, s, &s->sampler()); }

// Constrained decoding by hand, as a host drives ember_session_sample / ember_session_eval
// (generation would empty the grammar state at its start): sample, evaluate, repeat until
// the grammar allows no token (after EOS, which is not evaluated) or `limit` tokens.
// before_step(i) runs before the i-th sample.
struct Continuation {
  std::vector<int32_t> tokens;
  absl::StatusCode end = absl::StatusCode::kOk;  // Sample's error that ended it, if any
};
Continuation Continue(Session& s, int limit, const std::function<void(int)>& before_step = nullptr) {
  Continuation out;
  for (int i = 0; i < limit; ++i) {
    if (before_step) before_step(i);
    absl::StatusOr<int32_t> t = s.Sample();
    if (!t.ok()) {
      out.end = t.status().code();
      break;
    }
    out.tokens.push_back(*t);
    if (s.model().IsEndOfGeneration(*t)) {
      if (s.grammar() == nullptr) break;
      continue;  // the grammar has ended: the next Sample reports it
    }
    const absl::Status st = s.Eval({*t}, nullptr, nullptr);
    EXPECT_TRUE(st.ok()) << st;
    if (!st.ok()) break;
  }
  return out;
}

std::string GrammarText(const Session& s) { return std::string(s.grammar()->accepted_bytes()); }

bool SameLogits(const Session& a, const Session& b) {
  if (a.has_logits() != b.has_logits()) return false;
  const auto la = a.last_logits(), lb = b.last_logits();
  return la.size() == lb.size() && (la.empty() || std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)) == 0);
}

// ---------------------------------------------------------------------------------------
// Continuation.

class GrammarContinuationTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GrammarContinuationTest, LoadedSessionContinuesLikeTheUninterruptedOne) {
  const Model& model = LoadCached(GetParam());
  ASSERT_NE(Schema(), nullptr);
  constexpr int kLimit = 400;  // the schema's language is bounded (whitespace included) below this
  const std::vector<int> save_points = {0, 4, 11};
  for (const float temperature : {0.0f, 0.8f, 1.3f}) {
    for (uint64_t seed = 1; seed <= (temperature == 0.0f ? 1u : 3u); ++seed) {
      SCOPED_TRACE(::testing::Message() << GetParam() << " temperature " << temperature << " seed " << seed);
      const SessionOptions options = Options(temperature, seed, Schema());
      auto a = MustCreate(model, options);
      ASSERT_TRUE(a->Eval(Ids(5), nullptr, nullptr).ok());
      std::map<int, std::string> blobs;
      std::map<int, std::string> texts;
      const Continuation full = Continue(*a, kLimit, [&](int step) {
        for (int p : save_points) {
          if (p == step) {
            blobs[step] = Save(*a);
            texts[step] = GrammarText(*a);
          }
        }
      });
      // A run that ends by the grammar: EOS, after which nothing may follow.
      ASSERT_EQ(full.end, absl::StatusCode::kFailedPrecondition);
      ASSERT_TRUE(a->grammar()->ended());
      ASSERT_GT(full.tokens.size(), static_cast<size_t>(save_points.back()));
      EXPECT_FALSE(texts[4].empty());  // saved inside the object, mid-way
      EXPECT_FALSE(texts[11].empty());

      for (const auto& [step, blob] : blobs) {
        SCOPED_TRACE(::testing::Message() << "saved before token " << step);
        // The target has other content, another RNG position and its own grammar text.
        auto b = MustCreate(model, options);
        ASSERT_TRUE(b->Eval(Ids(7, 3), nullptr, nullptr).ok());
        Continue(*b, 2);
        ASSERT_TRUE(Load(blob, b.get()).ok());
        EXPECT_EQ(GrammarText(*b), texts[step]);
        EXPECT_FALSE(b->grammar()->ended());
        const Continuation rest = Continue(*b, kLimit - step);
        EXPECT_EQ(rest.end, full.end);
        EXPECT_EQ(rest.tokens, std::vector<int32_t>(full.tokens.begin() + step, full.tokens.end()));
        EXPECT_EQ(GrammarText(*b), GrammarText(*a));
        std::string text_a, text_b;
        ASSERT_TRUE(model.tokenizer().Decode(a->tokens(), false, &text_a).ok());
        ASSERT_TRUE(model.tokenizer().Decode(b->tokens(), false, &text_b).ok());
        EXPECT_EQ(text_b, text_a);
        EXPECT_TRUE(SameLogits(*a, *b));
      }

      // Saved after EOS: the loaded grammar has ended too.
      auto c = MustCreate(model, options);
      ASSERT_TRUE(Load(Save(*a), c.get()).ok());
      EXPECT_TRUE(c->grammar()->ended());
      EXPECT_EQ(GrammarText(*c), GrammarText(*a));
      EXPECT_EQ(c->Sample().status().code(), absl::StatusCode::kFailedPrecondition);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GrammarContinuationTest, ::testing::Values("stories260K.gguf", "tiny-llama2.f32.gguf"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string out;
                           for (const char* c = info.param; *c != '\0' && *c != '.'; ++c) {
                             if (std::isalnum(static_cast<unsigned char>(*c))) out += *c;
                           }
                           return out;
                         });

// ---------------------------------------------------------------------------------------
// The three documented combinations of target and blob.

TEST(GrammarStateLoadTest, TargetWithoutGrammarIgnoresTheSavedText) {
  auto a = MustCreate(Stories(), Options(0.8f, 3, Schema()));
  ASSERT_TRUE(a->Eval(Ids(5), nullptr, nullptr).ok());
  Continue(*a, 6);
  const std::string blob = Save(*a);
  auto plain = MustCreate(Stories(), Options(0.8f, 3, nullptr));
  ASSERT_TRUE(plain->Eval(Ids(9, 4), nullptr, nullptr).ok());
  ASSERT_TRUE(Load(blob, plain.get()).ok());
  EXPECT_EQ(plain->grammar(), nullptr);
  EXPECT_EQ(std::vector<int32_t>(plain->tokens().begin(), plain->tokens().end()),
            std::vector<int32_t>(a->tokens().begin(), a->tokens().end()));
  EXPECT_TRUE(SameLogits(*a, *plain));
  // Unconstrained from here: the same picks as a grammarless session at the same point.
  auto reference = MustCreate(Stories(), Options(0.8f, 3, nullptr));
  ASSERT_TRUE(Load(blob, reference.get()).ok());
  EXPECT_EQ(Continue(*plain, 5).tokens, Continue(*reference, 5).tokens);
}

TEST(GrammarStateLoadTest, BlobWithoutGrammarEmptiesTheTargetsState) {
  auto plain = MustCreate(Stories(), Options(0.8f, 4, nullptr));
  ASSERT_TRUE(plain->Eval(Ids(5), nullptr, nullptr).ok());
  Continue(*plain, 3);
  const std::string blob = Save(*plain);

  auto target = MustCreate(Stories(), Options(0.8f, 4, Schema()));
  ASSERT_TRUE(target->Eval(Ids(6, 1), nullptr, nullptr).ok());
  Continue(*target, 4);
  ASSERT_FALSE(GrammarText(*target).empty());
  ASSERT_TRUE(Load(blob, target.get()).ok());
  EXPECT_EQ(GrammarText(*target), "");
  EXPECT_FALSE(target->grammar()->ended());
  // Constrained from the empty text on, like a session whose grammar was never used.
  auto reference = MustCreate(Stories(), Options(0.8f, 4, Schema()));
  ASSERT_TRUE(Load(blob, reference.get()).ok());
  EXPECT_EQ(Continue(*target, 8).tokens, Continue(*reference, 8).tokens);
}

// A version 1 blob (written by ember before the grammar state existed; provenance in
// tests/data/README.md) still loads; the grammar state is emptied.
TEST(GrammarStateLoadTest, VersionOneBlobLoads) {
  const std::string v1 = ReadFileBytes(TestDataPath("state/stories260K-v1.state"));
  ASSERT_GE(v1.size(), 76u);
  uint32_t version = 0, n_tokens = 0;
  std::memcpy(&version, v1.data() + 8, 4);
  std::memcpy(&n_tokens, v1.data() + 44, 4);
  ASSERT_EQ(version, 1u);
  SessionOptions options = Options(0.7f, 1, Schema());
  options.n_ctx = 48;
  auto target = MustCreate(Stories(), options);
  ASSERT_TRUE(target->Eval(Ids(6, 1), nullptr, nullptr).ok());
  Continue(*target, 3);
  ASSERT_FALSE(GrammarText(*target).empty());
  const absl::Status st = Load(v1, target.get());
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(target->n_past(), static_cast<int32_t>(n_tokens));
  EXPECT_EQ(std::memcmp(target->tokens().data(), v1.data() + 72, 4 * n_tokens), 0);
  EXPECT_EQ(GrammarText(*target), "");
  // Saving writes version 2, which round-trips.
  const std::string v2 = Save(*target);
  std::memcpy(&version, v2.data() + 8, 4);
  EXPECT_EQ(version, kSessionStateVersion);
  auto again = MustCreate(Stories(), options);
  ASSERT_TRUE(Load(v2, again.get()).ok());
  EXPECT_TRUE(SameLogits(*target, *again));
  EXPECT_EQ(Continue(*target, 6).tokens, Continue(*again, 6).tokens);
}

// ---------------------------------------------------------------------------------------
// Refusals: the target is unchanged, which sampling on from it shows.

class GrammarStateRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(Schema(), nullptr);
    auto src = MustCreate(Stories(), Options(0.9f, 5, Schema()));
    ASSERT_TRUE(src->Eval(Ids(4), nullptr, nullptr).ok());
    Continue(*src, 5);
    text_ = GrammarText(*src);
    ASSERT_FALSE(text_.empty());
    ASSERT_FALSE(src->grammar()->IsComplete());  // five tokens cannot spell a whole person
    blob_ = Save(*src);
    ASSERT_EQ(blob_.substr(blob_.size() - 4 - text_.size(), text_.size()), text_);  // the section
  }

  // A target with `program` and a state of its own, and an untouched copy of it.
  void MakeTarget(std::shared_ptr<const grammar::Program> program) {
    target_ = MustCreate(Stories(), Options(0.9f, 77, std::move(program)));
    ASSERT_TRUE(target_->Eval(Ids(6, 2), nullptr, nullptr).ok());
    Continue(*target_, 2);
    target_text_ = GrammarText(*target_);
    auto copy = target_->Clone();
    ASSERT_TRUE(copy.ok());
    copy_ = *std::move(copy);
  }

  absl::Status Rejection(std::string_view blob, const std::string& where) {
    const absl::Status st = Load(blob, target_.get());
    EXPECT_FALSE(st.ok()) << where;
    EXPECT_FALSE(st.message().empty()) << where;
    return st;
  }
  // The target is as before: same tokens, logits, grammar text and end flag, and it samples
  // on exactly as its untouched copy does (RNG and grammar parse state).
  void ExpectUnchanged(const std::string& where) {
    EXPECT_EQ(std::vector<int32_t>(target_->tokens().begin(), target_->tokens().end()),
              std::vector<int32_t>(copy_->tokens().begin(), copy_->tokens().end()))
        << where;
    EXPECT_TRUE(SameLogits(*target_, *copy_)) << where;
    EXPECT_EQ(GrammarText(*target_), target_text_) << where;
    EXPECT_FALSE(target_->grammar()->ended()) << where;
    EXPECT_EQ(target_->sampler().SaveRngState(), copy_->sampler().SaveRngState()) << where;
  }
  void ExpectSamplesLikeTheCopy() {
    const Continuation t = Continue(*target_, 4);
    const Continuation c = Continue(*copy_, 4);
    EXPECT_EQ(t.tokens, c.tokens);
    EXPECT_EQ(t.end, c.end);
  }

  // The blob with a u32 at `offset` replaced and the checksum recomputed (a forger).
  static std::string Forged(std::string b, size_t offset, uint32_t value) {
    std::memcpy(b.data() + offset, &value, sizeof value);
    return WithChecksum(std::move(b));
  }
  static std::string WithChecksum(std::string b) {
    const uint32_t crc = Crc32c(0, b.data(), b.size() - 4);
    std::memcpy(b.data() + b.size() - 4, &crc, sizeof crc);
    return b;
  }
  size_t TextOffset() const { return blob_.size() - 4 - text_.size(); }

  std::string text_, blob_, target_text_;
  std::unique_ptr<Session> target_, copy_;
};

TEST_F(GrammarStateRefusalTest, AnotherGrammarThatRefusesTheTextLeavesTheTargetUnchanged) {
  MakeTarget(Compile(grammar::GrammarKind::kGbnf, kDigits));
  ASSERT_FALSE(target_text_.empty());
  const absl::Status st = Rejection(blob_, "digits grammar");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("grammar"));
  EXPECT_THAT(st.message(), HasSubstr("byte 0"));
  ExpectUnchanged("digits grammar");
  ExpectSamplesLikeTheCopy();
}

TEST_F(GrammarStateRefusalTest, CorruptedGrammarSectionRefused) {
  MakeTarget(Schema());
  // Lengths past the end (and short of it), with a valid checksum: the sizes do not add up.
  for (const uint32_t length : {static_cast<uint32_t>(text_.size() + 1), static_cast<uint32_t>(text_.size() - 1),
                                0u, 0xFFFFFFFFu, kMaxGrammarStateBytes + 1}) {
    const absl::Status st = Rejection(Forged(blob_, 76, length), "length " + std::to_string(length));
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  }
  // Flags: unknown bits, EOS without a grammar, text without a grammar, EOS after a text
  // that is not complete.
  for (const uint32_t flags : {4u, 5u, 0x80000001u, 2u, 0u}) {
    EXPECT_EQ(Rejection(Forged(blob_, 72, flags), "flags " + std::to_string(flags)).code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(Rejection(Forged(blob_, 72, 3), "ended early").message(), HasSubstr("not complete"));
  // A flipped text byte: the checksum catches it; with the checksum forged, the grammar.
  std::string flipped = blob_;
  flipped[TextOffset()] = 'x';
  EXPECT_THAT(Rejection(flipped, "flipped text").message(), HasSubstr("checksum"));
  const absl::Status replay = Rejection(WithChecksum(flipped), "forged text");
  EXPECT_EQ(replay.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(replay.message(), HasSubstr("byte 0"));
  // The last byte of the text broken, after a long valid prefix has been replayed.
  std::string late = blob_;
  late[TextOffset() + text_.size() - 1] = '\x01';
  EXPECT_THAT(Rejection(WithChecksum(late), "late byte").message(),
              HasSubstr("byte " + std::to_string(text_.size() - 1)));
  ExpectUnchanged("corrupted grammar sections");

  // Every truncation and every flipped byte of a blob with a grammar section.
  for (size_t n = 0; n < blob_.size(); n += (n < 100 || n + 100 > blob_.size()) ? 1 : 37) {
    Rejection(std::string_view(blob_.data(), n), "length " + std::to_string(n)).IgnoreError();
  }
  for (size_t i = 0; i < blob_.size(); i += (i < 100 || i + 100 > blob_.size()) ? 1 : 29) {
    std::string b = blob_;
    b[i] = static_cast<char>(b[i] ^ 0x20);
    Rejection(b, "byte " + std::to_string(i)).IgnoreError();
  }
  ExpectUnchanged("truncations and flips");
  ExpectSamplesLikeTheCopy();

  // And the untouched blob loads, with its text.
  ASSERT_TRUE(Load(blob_, target_.get()).ok());
  EXPECT_EQ(GrammarText(*target_), text_);
}

// A version 1 header with version 2's size, and the reverse, are refused.
TEST_F(GrammarStateRefusalTest, HeaderSizeMustMatchTheVersion) {
  MakeTarget(Schema());
  EXPECT_EQ(Rejection(Forged(blob_, 8, 1), "v1 with an 80-byte header").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Rejection(Forged(blob_, 12, 72), "v2 with a 72-byte header").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Rejection(Forged(blob_, 8, 3), "version 3").code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(Rejection(Forged(blob_, 8, 0), "version 0").code(), absl::StatusCode::kUnimplemented);
  ExpectUnchanged("header sizes");
}

}  // namespace
}  // namespace ember::testing
