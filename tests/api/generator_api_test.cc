// ember_generator_*: a stepped generation gives exactly ember_session_generate_ex()'s
// tokens, text, stop reason and status (stop strings, stop and end-of-generation tokens,
// max_tokens, grammar, callback stop, cancellation, a full context), alone and stepped
// together with other generations that join and leave between steps; one generation's
// error does not touch the others; malformed calls change nothing.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/api_expect.h"
#include "tests/support/test_support.h"

namespace {

constexpr char kPrompt[] = "Once upon a time";

// What a generation showed its host.
struct Outcome {
  ember_status status = -1;
  int32_t stop_reason = -1;
  int32_t n_generated = -1;
  int32_t n_past = -1;
  std::vector<int32_t> ids;  // as passed to the callback, -1 included
  std::vector<std::string> texts;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "status " << o.status << " reason " << o.stop_reason << " n " << o.n_generated << " n_past " << o.n_past
     << " text \"";
  for (const std::string& t : o.texts) os << t << "|";
  return os << "\"";
}

// One generation's setup. The callback stops (returns 1) or cancels the session at call
// `act_at` when asked.
struct Spec {
  uint64_t seed = 1;
  float temperature = 0.8f;
  int32_t n_ctx = 128;
  int32_t max_tokens = 40;
  bool ignore_eos = true;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_tokens;
  bool json_object = false;
  int act_at = -1;
  enum { kNone, kStop, kCancel } act = kNone;
};

struct Collector {
  Outcome* out = nullptr;
  ember_session* session = nullptr;
  const Spec* spec = nullptr;
};

int32_t Collect(void* user, int32_t token, const char* text, size_t len) {
  auto* c = static_cast<Collector*>(user);
  c->out->ids.push_back(token);
  c->out->texts.emplace_back(text, len);
  if (static_cast<int>(c->out->ids.size()) - 1 != c->spec->act_at) return 0;
  if (c->spec->act == Spec::kCancel) {
    EXPECT_EQ(ember_session_cancel(c->session), EMBER_OK);
  }
  return c->spec->act == Spec::kStop ? 1 : 0;
}

class GeneratorApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(ember_model_load(ember::testing::TestDataPath("models/stories260K.gguf").c_str(), nullptr, &model_),
              EMBER_OK)
        << ember_last_error();
  }
  static void TearDownTestSuite() {
    ember_model_free(model_);
    model_ = nullptr;
  }
  void TearDown() override {
    for (ember_generator* g : generators_) ember_generator_free(g);
    for (ember_session* s : sessions_) ember_session_free(s);
    for (ember_generate_options* o : options_) ember_generate_options_free(o);
  }

  // A fresh session with the spec's context and sampler.
  ember_session* NewSession(const Spec& spec, ember_model* model = nullptr) {
    ember_session_options* so = nullptr;
    EXPECT_EQ(ember_session_options_create(&so), EMBER_OK);
    EXPECT_EQ(ember_session_options_set_n_ctx(so, spec.n_ctx), EMBER_OK);
    ember_session* s = nullptr;
    EXPECT_EQ(ember_session_create(model ? model : model_, so, &s), EMBER_OK) << ember_last_error();
    ember_session_options_free(so);
    ember_sampler_options* sampler = nullptr;
    EXPECT_EQ(ember_sampler_options_create(&sampler), EMBER_OK);
    EXPECT_EQ(ember_sampler_options_set_temperature(sampler, spec.temperature), EMBER_OK);
    EXPECT_EQ(ember_sampler_options_set_seed(sampler, spec.seed), EMBER_OK);
    if (spec.json_object) {
      EXPECT_EQ(ember_sampler_options_set_grammar(sampler, EMBER_GRAMMAR_JSON_OBJECT, nullptr, 0), EMBER_OK);
    }
    EXPECT_EQ(ember_session_set_sampler(s, sampler), EMBER_OK);
    ember_sampler_options_free(sampler);
    sessions_.push_back(s);
    return s;
  }

  ember_generate_options* Options(const Spec& spec) {
    ember_generate_options* o = nullptr;
    EXPECT_EQ(ember_generate_options_create(&o), EMBER_OK);
    EXPECT_EQ(ember_generate_options_set_max_tokens(o, spec.max_tokens), EMBER_OK);
    EXPECT_EQ(ember_generate_options_set_ignore_eos(o, spec.ignore_eos ? 1 : 0), EMBER_OK);
    std::vector<const char*> stops;
    for (const std::string& s : spec.stop_strings) stops.push_back(s.c_str());
    EXPECT_EQ(ember_generate_options_set_stop_strings(o, stops.data(), stops.size()), EMBER_OK);
    EXPECT_EQ(ember_generate_options_set_stop_tokens(o, spec.stop_tokens.data(), spec.stop_tokens.size()), EMBER_OK);
    options_.push_back(o);
    return o;
  }

  // The reference: ember_session_generate_ex on a fresh session.
  Outcome GenerateEx(const Spec& spec) {
    Outcome out;
    ember_session* s = NewSession(spec);
    Collector c{&out, s, &spec};
    out.status = ember_session_generate_ex(s, kPrompt, sizeof(kPrompt) - 1, 0, Options(spec), Collect, &c,
                                           &out.n_generated, &out.stop_reason);
    out.n_past = ember_session_n_past(s);
    return out;
  }

  // A stepped generation, ready to step: the prompt evaluated by the host.
  struct Stepped {
    Outcome out;
    Collector collector;
    ember_session* session = nullptr;
    ember_generator* generator = nullptr;
    ember_status last_status = EMBER_OK;
  };
  std::unique_ptr<Stepped> Start(const Spec& spec, ember_model* model = nullptr) {
    auto st = std::make_unique<Stepped>();
    st->session = NewSession(spec, model);
    std::vector<int32_t> ids(64);
    size_t n = 0;
    EXPECT_EQ(ember_tokenize(model ? model : model_, kPrompt, sizeof(kPrompt) - 1, 0, ids.data(), ids.size(), &n),
              EMBER_OK);
    EXPECT_EQ(ember_session_eval(st->session, ids.data(), n, nullptr, 0), EMBER_OK);
    st->collector = {&st->out, st->session, &spec};
    EXPECT_EQ(ember_generator_create(st->session, Options(spec), Collect, &st->collector, &st->generator), EMBER_OK)
        << ember_last_error();
    generators_.push_back(st->generator);
    return st;
  }
  static void Finish(Stepped& st) {
    st.out.status = st.last_status;
    st.out.stop_reason = ember_generator_stop_reason(st.generator);
    st.out.n_generated = ember_generator_n_generated(st.generator);
    st.out.n_past = ember_session_n_past(st.session);
  }
  // Steps `set` together until all are done.
  static void StepAll(const std::vector<Stepped*>& set) {
    for (int step = 0; step < 1000; ++step) {
      std::vector<ember_generator*> gens;
      for (Stepped* s : set) gens.push_back(s->generator);
      std::vector<ember_status> statuses(gens.size(), -1);
      ASSERT_EQ(ember_generator_step(gens.data(), gens.size(), statuses.data()), EMBER_OK) << ember_last_error();
      bool all_done = true;
      for (size_t i = 0; i < set.size(); ++i) {
        set[i]->last_status = statuses[i];
        all_done = all_done && ember_generator_done(set[i]->generator) != 0;
      }
      if (all_done) break;
    }
    for (Stepped* s : set) Finish(*s);
  }
  Outcome StepAlone(const Spec& spec) {
    auto st = Start(spec);
    StepAll({st.get()});
    return st->out;
  }

  static ember_model* model_;
  std::vector<ember_session*> sessions_;
  std::vector<ember_generate_options*> options_;
  std::vector<ember_generator*> generators_;
};

ember_model* GeneratorApiTest::model_ = nullptr;

// The text of an unconstrained reference, for placing stop strings and tokens in it.
TEST_F(GeneratorApiTest, StepsLikeGenerateExForEveryStopCondition) {
  const Outcome ref = GenerateEx(Spec{});
  ASSERT_EQ(ref.status, EMBER_OK);
  ASSERT_GE(ref.texts.size(), 20u);
  std::string text;
  for (const std::string& t : ref.texts) text += t;
  // A stop string straddling tokens 10 and 11, and one that never occurs.
  std::string straddle = ref.texts[10].substr(ref.texts[10].size() > 1 ? ref.texts[10].size() - 2 : 0) +
                         ref.texts[11].substr(0, 1);

  std::vector<std::pair<std::string, Spec>> cases;
  cases.push_back({"max_tokens", Spec{}});
  Spec s;
  s.stop_strings = {straddle, "\xe2\x9c\x93 never"};
  cases.push_back({"stop string", s});
  s = Spec{};
  s.stop_strings = {"zzz never"};
  cases.push_back({"unmatched stop string", s});
  s = Spec{};
  s.stop_tokens = {ref.ids[7]};
  cases.push_back({"stop token", s});
  s = Spec{};
  s.ignore_eos = false;
  s.max_tokens = 100;
  s.temperature = 0.0f;
  cases.push_back({"end of generation or max_tokens", s});
  s = Spec{};
  s.json_object = true;
  s.max_tokens = 60;
  cases.push_back({"grammar", s});
  s = Spec{};
  s.act = Spec::kStop;
  s.act_at = 5;
  cases.push_back({"callback stop", s});
  s.stop_strings = {"zzz never"};
  cases.push_back({"callback stop with held text", s});
  s = Spec{};
  s.act = Spec::kCancel;
  s.act_at = 5;
  cases.push_back({"cancel from the callback", s});
  s = Spec{};
  s.n_ctx = 24;
  s.max_tokens = 100;
  cases.push_back({"context full", s});
  s = Spec{};
  s.max_tokens = 0;
  cases.push_back({"max_tokens 0", s});

  bool saw[9] = {};
  for (const auto& [name, spec] : cases) {
    SCOPED_TRACE(name);
    const Outcome want = GenerateEx(spec);
    EXPECT_EQ(StepAlone(spec), want);
    if (want.stop_reason >= 0 && want.stop_reason < 9) saw[want.stop_reason] = true;
  }
  // The cases above do reach these stop conditions.
  for (int r : {EMBER_STOP_STRING, EMBER_STOP_MAX_TOKENS, EMBER_STOP_CALLBACK, EMBER_STOP_CANCELLED,
                EMBER_STOP_CONTEXT_FULL, EMBER_STOP_TOKEN}) {
    EXPECT_TRUE(saw[r]) << "stop reason " << r;
  }
}

TEST_F(GeneratorApiTest, GeneratorsSteppedTogetherGetTheirAloneTokensAndJoinAndLeave) {
  std::vector<Spec> specs(6);
  for (size_t i = 0; i < specs.size(); ++i) {
    specs[i].seed = 100 + i;
    specs[i].max_tokens = 10 + 7 * static_cast<int32_t>(i);  // they leave at different steps
  }
  specs[2].stop_strings = {"the", "."};
  specs[3].json_object = true;
  specs[4].n_ctx = 30;  // ends on a full context: an error that is its own
  specs[4].max_tokens = 100;
  specs[5].temperature = 0.0f;
  std::vector<Outcome> alone;
  for (const Spec& spec : specs) alone.push_back(GenerateEx(spec));
  EXPECT_EQ(alone[4].status, EMBER_ERR_CONTEXT_FULL);

  // Generator i joins before step 3 * i.
  std::vector<std::unique_ptr<Stepped>> running;
  for (int step = 0; step < 300; ++step) {
    if (step % 3 == 0 && running.size() < specs.size()) running.push_back(Start(specs[running.size()]));
    std::vector<ember_generator*> gens;
    std::vector<Stepped*> live;
    for (auto& r : running) {
      if (ember_generator_done(r->generator)) continue;  // it left
      gens.push_back(r->generator);
      live.push_back(r.get());
    }
    if (gens.empty() && running.size() == specs.size()) break;
    std::vector<ember_status> statuses(gens.size(), -1);
    ASSERT_EQ(ember_generator_step(gens.data(), gens.size(), statuses.data()), EMBER_OK) << ember_last_error();
    for (size_t i = 0; i < live.size(); ++i) live[i]->last_status = statuses[i];
  }
  ASSERT_EQ(running.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(ember_generator_done(running[i]->generator));
    Finish(*running[i]);
    EXPECT_EQ(running[i]->out, alone[i]);
  }
  EXPECT_THAT(ember_generator_error(running[4]->generator), ::testing::HasSubstr("context"));
  EXPECT_STREQ(ember_generator_error(running[0]->generator), "");
}

TEST_F(GeneratorApiTest, CancelBetweenStepsEndsAtTheNextStep) {
  Spec spec;
  auto st = Start(spec);
  ember_status status = -1;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(ember_generator_step(&st->generator, 1, &status), EMBER_OK);
  ASSERT_EQ(status, EMBER_OK);
  const int32_t n_past = ember_session_n_past(st->session);
  ASSERT_EQ(ember_session_cancel(st->session), EMBER_OK);
  ASSERT_EQ(ember_generator_step(&st->generator, 1, &status), EMBER_OK);
  EXPECT_EQ(status, EMBER_ERR_CANCELLED);
  EXPECT_TRUE(ember_generator_done(st->generator));
  EXPECT_EQ(ember_generator_stop_reason(st->generator), EMBER_STOP_CANCELLED);
  EXPECT_EQ(ember_session_n_past(st->session), n_past);
  // Done generators are skipped and keep reporting how they ended.
  ASSERT_EQ(ember_generator_step(&st->generator, 1, &status), EMBER_OK);
  EXPECT_EQ(status, EMBER_ERR_CANCELLED);
  // A cancel after the generation ended does not reach the session's next call.
  ASSERT_EQ(ember_session_cancel(st->session), EMBER_OK);
  int32_t token = 0;
  EXPECT_EQ(ember_session_eval(st->session, &token, 1, nullptr, 0), EMBER_OK);
}

TEST_F(GeneratorApiTest, CreateErrors) {
  Spec spec;
  ember_generator* g = nullptr;
  ember_session* empty = NewSession(spec);
  EXPECT_FAILS_WITH(ember_generator_create(nullptr, nullptr, nullptr, nullptr, &g), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generator_create(empty, nullptr, nullptr, nullptr, nullptr), EMBER_ERR_INVALID_ARGUMENT,
                    "NULL");
  EXPECT_FAILS_WITH(ember_generator_create(empty, nullptr, nullptr, nullptr, &g), EMBER_ERR_BAD_STATE, "logits");
  EXPECT_EQ(g, nullptr);
  auto st = Start(spec);
  EXPECT_FAILS_WITH(ember_generator_create(st->session, nullptr, nullptr, nullptr, &g), EMBER_ERR_BAD_STATE,
                    "live generator");
  EXPECT_EQ(g, nullptr);
  // Freed, the session takes a new one (which continues from where the first left off).
  ember_status status = -1;
  ASSERT_EQ(ember_generator_step(&st->generator, 1, &status), EMBER_OK);
  ember_generator_free(st->generator);
  generators_.erase(std::find(generators_.begin(), generators_.end(), st->generator));
  ASSERT_EQ(ember_generator_create(st->session, nullptr, nullptr, nullptr, &g), EMBER_OK) << ember_last_error();
  generators_.push_back(g);
  EXPECT_FALSE(ember_generator_done(g));
  // NULL accessors.
  EXPECT_EQ(ember_generator_done(nullptr), 1);
  EXPECT_EQ(ember_generator_stop_reason(nullptr), EMBER_STOP_NONE);
  EXPECT_EQ(ember_generator_n_generated(nullptr), 0);
  EXPECT_STREQ(ember_generator_error(nullptr), "");
  ember_generator_free(nullptr);
}

TEST_F(GeneratorApiTest, MalformedStepsTouchNothing) {
  Spec spec;
  auto a = Start(spec);
  auto b = Start(spec);
  ember_model* other_model = nullptr;
  ASSERT_EQ(ember_model_load(ember::testing::TestDataPath("models/stories260K.gguf").c_str(), nullptr, &other_model),
            EMBER_OK);
  auto c = Start(spec, other_model);
  const int32_t past_a = ember_session_n_past(a->session);
  ember_status statuses[3] = {-1, -1, -1};
  ember_generator* dup[] = {a->generator, b->generator, a->generator};
  ember_generator* with_null[] = {a->generator, nullptr};
  ember_generator* mixed[] = {a->generator, c->generator};
  EXPECT_FAILS_WITH(ember_generator_step(nullptr, 1, statuses), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generator_step(dup, 2, nullptr), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generator_step(with_null, 2, statuses), EMBER_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT_FAILS_WITH(ember_generator_step(dup, 3, statuses), EMBER_ERR_INVALID_ARGUMENT, "twice");
  EXPECT_FAILS_WITH(ember_generator_step(mixed, 2, statuses), EMBER_ERR_INVALID_ARGUMENT, "different models");
  EXPECT_EQ(ember_generator_step(nullptr, 0, nullptr), EMBER_OK);
  for (ember_status s : statuses) EXPECT_EQ(s, -1);
  EXPECT_EQ(ember_session_n_past(a->session), past_a);
  EXPECT_TRUE(a->out.ids.empty());
  // Untouched: a still generates exactly what it would have.
  StepAll({a.get()});
  EXPECT_EQ(a->out, GenerateEx(spec));
  ember_generator_free(c->generator);
  generators_.erase(std::find(generators_.begin(), generators_.end(), c->generator));
  ember_session_free(c->session);
  sessions_.erase(std::find(sessions_.begin(), sessions_.end(), c->session));
  ember_model_free(other_model);
}

}  // namespace
