// include/ember/ember.hpp, the header-only C++ wrappers, against the shared libember.so:
// RAII ownership and moves, errors as ember::Error, and the same tokens as the C API.
#include <atomic>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "ember/ember.hpp"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

using ember::testing::ReadJson;
using ember::testing::TestDataPath;

std::string StoriesPath() { return TestDataPath("models/stories260K.gguf"); }

// Handles own a C object each: they move, they never copy.
static_assert(!std::is_copy_constructible_v<ember::Model>);
static_assert(!std::is_copy_assignable_v<ember::Session>);
static_assert(std::is_nothrow_move_constructible_v<ember::Model>);
static_assert(std::is_nothrow_move_assignable_v<ember::Session>);
static_assert(std::is_nothrow_move_constructible_v<ember::SamplerOptions>);
static_assert(!std::is_copy_constructible_v<ember::SessionOptions>);

// The greedy continuation computed with the plain C API, to compare the wrappers against.
std::vector<int32_t> GreedyWithCApi(const std::string& prompt, int32_t n) {
  ember_model* model = nullptr;
  ember_session* session = nullptr;
  EXPECT_EQ(ember_model_load(StoriesPath().c_str(), nullptr, &model), EMBER_OK);
  EXPECT_EQ(ember_session_create(model, nullptr, &session), EMBER_OK);
  std::vector<int32_t> ids;
  auto collect = [](void* user, int32_t token, const char*, size_t) -> int32_t {
    static_cast<std::vector<int32_t>*>(user)->push_back(token);
    return 0;
  };
  EXPECT_EQ(ember_session_generate(session, prompt.data(), prompt.size(), EMBER_TOKENIZE_DEFAULT, n,
                                   EMBER_GENERATE_IGNORE_EOS, collect, &ids, nullptr),
            EMBER_OK);
  ember_session_free(session);
  ember_model_free(model);
  return ids;
}

TEST(CppWrapperTest, VersionIsTheLibrarys) {
  EXPECT_EQ(ember::version(), EMBER_VERSION_STRING);
  EXPECT_EQ(ember::version_number(), EMBER_VERSION_NUMBER);
  EXPECT_EQ(ember::status_name(EMBER_ERR_IO), "EMBER_ERR_IO");
}

TEST(CppWrapperTest, LoadsAndTokenizesLikeTheReference) {
  const auto ref = ReadJson(TestDataPath("reference/stories260K.short.json"));
  ember::Model model(StoriesPath());
  EXPECT_EQ(model.architecture(), "llama");
  EXPECT_EQ(model.n_vocab(), ref["n_vocab"].get<int32_t>());
  EXPECT_EQ(model.token_bos(), ref["bos_token_id"].get<int32_t>());
  EXPECT_EQ(model.token_eos(), ref["eos_token_id"].get<int32_t>());
  EXPECT_TRUE(model.adds_bos());
  const std::vector<int32_t> ids = model.tokenize(ref["prompt"].get<std::string>());
  EXPECT_EQ(ids, ref["prompt_token_ids"].get<std::vector<int32_t>>());
  // Detokenizing without BOS gives the text back (SentencePiece keeps the leading space).
  const std::vector<int32_t> no_bos(ids.begin() + 1, ids.end());
  EXPECT_EQ(model.detokenize(no_bos), " Once upon a time");
  EXPECT_EQ(model.detokenize(ids, EMBER_DETOKENIZE_SKIP_SPECIAL), " Once upon a time");
  // Longer than the first buffer guess: the BUFFER_TOO_SMALL retry path.
  std::vector<int32_t> many;
  for (int i = 0; i < 50; ++i) many.insert(many.end(), no_bos.begin(), no_bos.end());
  EXPECT_EQ(model.detokenize(many).size(), 50 * std::string(" Once upon a time").size());
  EXPECT_TRUE(model.tokenize("", EMBER_TOKENIZE_NO_BOS).empty());
}

TEST(CppWrapperTest, EvalGivesTheLogitsOfTheLastPosition) {
  ember::Model model(StoriesPath());
  ember::Session session(model, ember::SessionOptions().n_ctx(64).n_threads(1));
  EXPECT_EQ(session.n_ctx(), 64);
  const std::vector<int32_t> ids = model.tokenize("Once upon a time");
  const std::vector<float> all = session.eval_all_logits(ids, model.n_vocab());
  EXPECT_EQ(session.n_past(), static_cast<int32_t>(ids.size()));
  EXPECT_GT(session.kv_bytes(), 0u);
  const std::vector<float> last = session.logits();
  ASSERT_EQ(last.size(), static_cast<size_t>(model.n_vocab()));
  EXPECT_EQ(last, std::vector<float>(all.end() - model.n_vocab(), all.end()));
  const int32_t next = session.sample();  // greedy by default: the argmax
  EXPECT_EQ(next, ReadJson(TestDataPath("reference/stories260K.short.json"))["greedy"]["token_ids"][0].get<int32_t>());
  session.eval({next});
  EXPECT_EQ(session.n_past(), static_cast<int32_t>(ids.size()) + 1);
  session.reset();
  EXPECT_EQ(session.n_past(), 0);
  EXPECT_THROW(session.logits(), ember::Error);  // nothing evaluated since the reset
}

TEST(CppWrapperTest, GenerateStreamsTheSameTokensAsTheCApi) {
  const std::vector<int32_t> want = GreedyWithCApi("Once upon a time", 24);
  ember::Model model(StoriesPath());
  ember::Session session(model);
  std::vector<int32_t> got;
  std::string streamed;
  const int32_t n = session.generate(
      "Once upon a time", 24,
      [&](int32_t token, std::string_view text) {
        got.push_back(token);
        streamed.append(text);
        return true;
      },
      EMBER_TOKENIZE_DEFAULT, EMBER_GENERATE_IGNORE_EOS);
  EXPECT_EQ(n, 24);
  EXPECT_EQ(got, want);
  EXPECT_EQ(streamed, model.detokenize(got));
  // generate_text collects the same text.
  session.reset();
  EXPECT_EQ(session.generate_text("Once upon a time", 24, EMBER_TOKENIZE_DEFAULT, EMBER_GENERATE_IGNORE_EOS),
            streamed);
}

TEST(CppWrapperTest, SeededSamplerIsReproducible) {
  ember::Model model(StoriesPath());
  auto run = [&model](uint64_t seed) {
    ember::SessionOptions options;
    options.sampler(ember::SamplerOptions().temperature(0.9f).top_k(40).top_p(0.95f).min_p(0.01f).repeat_penalty(1.1f, 32).seed(seed));
    ember::Session session(model, options);
    return session.generate_text("Once upon a time", 30, EMBER_TOKENIZE_DEFAULT, EMBER_GENERATE_IGNORE_EOS);
  };
  EXPECT_EQ(run(7), run(7));
}

TEST(CppWrapperTest, CallbackStopsAndItsExceptionIsRethrown) {
  ember::Model model(StoriesPath());
  ember::Session session(model);
  int calls = 0;
  EXPECT_EQ(session.generate("Once", 20, [&](int32_t, std::string_view) { return ++calls < 3; }), 3);
  EXPECT_EQ(calls, 3);
  session.reset();
  EXPECT_THROW(session.generate("Once", 20,
                                [](int32_t, std::string_view) -> bool { throw std::runtime_error("host"); }),
               std::runtime_error);
  // The session is still usable after the host's exception.
  EXPECT_GT(session.n_past(), 0);
  EXPECT_NO_THROW(session.reset());
}

TEST(CppWrapperTest, ErrorsCarryStatusAndMessage) {
  try {
    ember::Model missing(TestDataPath("models/does-not-exist.gguf"));
    FAIL() << "loading a missing file must throw";
  } catch (const ember::Error& e) {
    EXPECT_EQ(e.status(), EMBER_ERR_IO);
    EXPECT_NE(e.message().find("does-not-exist"), std::string::npos) << e.message();
    EXPECT_EQ(std::string(e.what()).rfind("EMBER_ERR_IO: ", 0), 0u) << e.what();
  }
  auto status_of = [](auto&& f) {
    try {
      f();
    } catch (const ember::Error& e) {
      return e.status();
    }
    return EMBER_OK;
  };
  EXPECT_EQ(status_of([] { ember::SamplerOptions().temperature(-1.0f); }), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { ember::SessionOptions().kv_type(99); }), EMBER_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { ember::ModelOptions().weight_format(99); }), EMBER_ERR_INVALID_ARGUMENT);
  ember::Model model(StoriesPath());
  ember::Session session(model);
  EXPECT_EQ(status_of([&] { session.eval({model.n_vocab()}); }), EMBER_ERR_INVALID_TOKEN);
  EXPECT_EQ(session.n_past(), 0);  // a failed eval changes nothing
  EXPECT_EQ(status_of([&] { model.tokenize("\xff\xfe"); }), EMBER_ERR_INVALID_UTF8);
  EXPECT_EQ(status_of([&] { model.detokenize({-1}); }), EMBER_ERR_INVALID_TOKEN);
}

TEST(CppWrapperTest, MovesTransferOwnership) {
  ember::Model first(StoriesPath());
  ember_model* raw = first.get();
  ember::Model second(std::move(first));
  EXPECT_EQ(second.get(), raw);
  EXPECT_EQ(first.get(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(first.n_vocab(), 0);    // the C API's answer for a NULL model

  ember::Session a(second);
  ember::Session b(second);
  ember_session* raw_a = a.get();
  b = std::move(a);  // b's old session is freed here, a's moves over
  EXPECT_EQ(b.get(), raw_a);
  EXPECT_EQ(a.get(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.generate_text("Once", 4, EMBER_TOKENIZE_DEFAULT, EMBER_GENERATE_IGNORE_EOS).empty(), false);

  std::vector<ember::Session> sessions;
  for (int i = 0; i < 3; ++i) sessions.emplace_back(second);  // vector growth moves them
  for (auto& s : sessions) EXPECT_NE(s.get(), nullptr);
}

TEST(CppWrapperTest, ModelOptionsAreApplied) {
  ember::Model q8(StoriesPath(), ember::ModelOptions().weight_format(EMBER_WEIGHTS_Q8_0));
  EXPECT_EQ(q8.n_vocab(), 512);
  ember::Session session(q8);
  EXPECT_EQ(session.generate("Once", 8, {}, EMBER_TOKENIZE_DEFAULT, EMBER_GENERATE_IGNORE_EOS), 8);
}

}  // namespace
