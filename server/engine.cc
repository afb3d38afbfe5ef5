#include "server/engine.h"

#include <algorithm>
#include <thread>

#include "server/stop_filter.h"

namespace ember::server {
namespace {

struct SessionDeleter { void operator()(ember_session* s) const { ember_session_free(s); } };
struct SamplerDeleter { void operator()(ember_sampler_options* o) const { ember_sampler_options_free(o); } };
struct SessionOptionsDeleter { void operator()(ember_session_options* o) const { ember_session_options_free(o); } };

std::string LastError(const char* what, ember_status status) {
  return std::string(what) + ": " + ember_status_name(status) + ": " + ember_last_error();
}

}  // namespace

struct Engine::Slot {
  // Guards `session` against Cancel() from other threads while PrepareSession swaps it.
  mutable std::mutex mu;
  std::unique_ptr<ember_session, SessionDeleter> session;
  std::optional<SamplingParams> sampling;  // what `session` was created with
  std::vector<int32_t> history;            // the tokens the session holds, in order
};

std::unique_ptr<Engine> Engine::Load(const EngineConfig& config, std::string* error) {
  if (config.n_slots < 1) {
    *error = "need at least one slot";
    return nullptr;
  }
  std::unique_ptr<Engine> engine(new Engine());
  engine->config_ = config;
  ember_model* model = nullptr;
  ember_status st = ember_model_load(config.model_path.c_str(), nullptr, &model);
  if (st != EMBER_OK) {
    *error = LastError("loading the model", st);
    return nullptr;
  }
  engine->model_.reset(model);
  engine->n_vocab_ = ember_model_n_vocab(model);
  for (int32_t i = 0; i < config.n_slots; ++i) {
    auto slot = std::make_unique<Slot>();
    SamplingParams greedy;
    greedy.temperature = 0.0f;
    if (!engine->PrepareSession(*slot, greedy, error)) return nullptr;
    engine->slots_.push_back(std::move(slot));
  }
  engine->n_ctx_ = ember_session_n_ctx(engine->slots_[0]->session.get());
  // TODO(generate_ex): ember_model_token_is_eog() knows every end-of-turn token.
  std::vector<int32_t> ids(8);
  size_t n = 0;
  const std::string im_end = "<|im_end|>";
  if (ember_tokenize(model, im_end.data(), im_end.size(), EMBER_TOKENIZE_NO_BOS | EMBER_TOKENIZE_PARSE_SPECIAL,
                     ids.data(), ids.size(), &n) == EMBER_OK &&
      n == 1) {
    engine->end_of_turn_token_ = ids[0];
  }
  return engine;
}

Engine::~Engine() {
  slots_.clear();  // sessions before the model
  model_.reset();
}

BackendCapabilities Engine::capabilities() const {
  BackendCapabilities caps;
  caps.penalties = false;        // TODO(penalties/logit-bias)
  caps.logit_bias = false;       // TODO(penalties/logit-bias)
  caps.response_format = false;  // TODO(grammar)
  caps.n_vocab = n_vocab_;
  return caps;
}

bool Engine::PrepareSession(Slot& slot, const SamplingParams& sampling, std::string* error) {
  // Greedy decoding does not read the sampler's random state, so a greedy slot keeps its
  // session (and KV cache) across requests. Seeded sampling must start from the seed, and
  // the sampler cannot change on a live session yet: TODO(sampler-switch).
  const bool greedy = sampling.temperature == 0.0f;
  if (slot.session && slot.sampling && greedy && slot.sampling->temperature == 0.0f) return true;
  if (slot.session && slot.sampling && *slot.sampling == sampling) {
    const ember_status st = ember_session_reset(slot.session.get());  // re-seeds the sampler
    if (st != EMBER_OK) {
      *error = LastError("resetting the session", st);
      return false;
    }
    slot.history.clear();
    return true;
  }
  ember_sampler_options* sampler_raw = nullptr;
  ember_status st = ember_sampler_options_create(&sampler_raw);
  std::unique_ptr<ember_sampler_options, SamplerDeleter> sampler(sampler_raw);
  if (st == EMBER_OK) st = ember_sampler_options_set_temperature(sampler_raw, sampling.temperature);
  if (st == EMBER_OK) st = ember_sampler_options_set_top_p(sampler_raw, sampling.top_p);
  if (st == EMBER_OK) st = ember_sampler_options_set_seed(sampler_raw, sampling.seed);
  ember_session_options* options_raw = nullptr;
  if (st == EMBER_OK) st = ember_session_options_create(&options_raw);
  std::unique_ptr<ember_session_options, SessionOptionsDeleter> options(options_raw);
  if (st == EMBER_OK && config_.n_ctx > 0) st = ember_session_options_set_n_ctx(options_raw, config_.n_ctx);
  if (st == EMBER_OK && config_.n_threads > 0) st = ember_session_options_set_n_threads(options_raw, config_.n_threads);
  if (st == EMBER_OK) st = ember_session_options_set_sampler(options_raw, sampler_raw);
  if (st != EMBER_OK) {
    *error = LastError("sampling options", st);
    return false;
  }
  // Free the old session first: two KV caches per slot could exceed memory.
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    slot.session.reset();
  }
  slot.history.clear();
  slot.sampling.reset();
  ember_session* session = nullptr;
  st = ember_session_create(model_.get(), options_raw, &session);
  if (st != EMBER_OK) {
    *error = LastError("creating a session", st);
    return false;
  }
  std::lock_guard<std::mutex> lock(slot.mu);
  slot.session.reset(session);
  slot.sampling = sampling;
  return true;
}

bool Engine::TokenizeText(std::string_view text, std::vector<int32_t>* tokens, std::string* error) const {
  return TokenizeWithFlags(text, EMBER_TOKENIZE_DEFAULT, tokens, error);
}

bool Engine::TokenizeChat(const std::vector<ChatMessage>& messages, std::vector<int32_t>* tokens,
                          std::string* error) const {
  // TODO(chat-template): ember_chat_apply() with the model's template. Until then: Phi-2's
  // documented "Instruct:/Output:" layout for phi2, ChatML for everything else.
  std::string text;
  if (std::string_view(ember_model_architecture(model_.get())) == "phi2") {
    for (const ChatMessage& m : messages) {
      if (m.role == "system") text += m.content + "\n";
      else if (m.role == "assistant") text += " " + m.content + "\n";
      else text += "Instruct: " + m.content + "\nOutput:";
    }
    if (messages.back().role == "assistant") text += "Instruct: \nOutput:";
  } else {
    for (const ChatMessage& m : messages) text += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    text += "<|im_start|>assistant\n";
  }
  return TokenizeWithFlags(text, EMBER_TOKENIZE_DEFAULT | EMBER_TOKENIZE_PARSE_SPECIAL, tokens, error);
}

bool Engine::TokenizeWithFlags(std::string_view text, uint32_t flags, std::vector<int32_t>* tokens,
                               std::string* error) const {
  size_t n = 0;
  tokens->resize(text.size() + 8);  // a token covers at least one byte, plus BOS
  ember_status st = ember_tokenize(model_.get(), text.data(), text.size(), flags, tokens->data(), tokens->size(), &n);
  if (st == EMBER_ERR_BUFFER_TOO_SMALL) {
    tokens->resize(n);
    st = ember_tokenize(model_.get(), text.data(), text.size(), flags, tokens->data(), tokens->size(), &n);
  }
  if (st != EMBER_OK) {
    *error = st == EMBER_ERR_INVALID_UTF8 ? "the prompt is not valid UTF-8" : LastError("tokenizing", st);
    tokens->clear();
    return false;
  }
  tokens->resize(n);
  return true;
}

bool Engine::Detokenize(const std::vector<int32_t>& tokens, std::string* text, std::string* error) const {
  size_t n = 0;
  text->resize(tokens.size() * 8 + 16);
  ember_status st = ember_detokenize(model_.get(), tokens.data(), tokens.size(), EMBER_DETOKENIZE_SKIP_SPECIAL,
                                     text->data(), text->size(), &n);
  if (st == EMBER_ERR_BUFFER_TOO_SMALL) {
    text->resize(n);
    st = ember_detokenize(model_.get(), tokens.data(), tokens.size(), EMBER_DETOKENIZE_SKIP_SPECIAL, text->data(),
                          text->size(), &n);
  }
  if (st != EMBER_OK) {
    *error = LastError("detokenizing", st);
    return false;
  }
  text->resize(n);
  return true;
}

size_t Engine::ReusablePrefix(int32_t slot_index, const std::vector<int32_t>& prompt) const {
  // TODO(prefix-cache): ember_session_eval_reuse keeps the longest common prefix; without
  // truncation the session can only be extended, so all it holds must prefix the prompt
  // (with at least one new token left to evaluate for fresh logits).
  const Slot& slot = *slots_[static_cast<size_t>(slot_index)];
  const std::vector<int32_t>& h = slot.history;
  if (h.empty() || h.size() >= prompt.size()) return 0;
  return std::equal(h.begin(), h.end(), prompt.begin()) ? h.size() : 0;
}

namespace {

// State of one ember_session_generate() call, for its token callback.
struct GenerationState {
  const TextSink* sink = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  StopFilter* stop = nullptr;
  std::vector<int32_t>* history = nullptr;
  int32_t end_of_turn_token = -1;
  bool stopped_by_text = false;
  bool cancelled = false;
  bool end_of_turn = false;
  std::string emit;
};

int32_t OnToken(void* user_data, int32_t token, const char* text, size_t text_len) {
  auto* state = static_cast<GenerationState*>(user_data);
  state->history->push_back(token);  // the library evaluated it before calling us
  if (token == state->end_of_turn_token) {
    state->end_of_turn = true;
    return 1;
  }
  state->emit.clear();
  if (state->stop->Push(std::string_view(text, text_len), &state->emit)) state->stopped_by_text = true;
  if (!state->emit.empty()) (*state->sink)(state->emit);
  if (state->cancel->load(std::memory_order_acquire)) {
    state->cancelled = true;
    return 1;
  }
  return state->stopped_by_text ? 1 : 0;
}

}  // namespace

GenerateResult Engine::Generate(int32_t slot_index, const GenerateParams& params, const TextSink& sink,
                                const std::atomic<bool>& cancel) {
  Slot& slot = *slots_[static_cast<size_t>(slot_index)];
  GenerateResult result;
  result.prompt_tokens = static_cast<int32_t>(params.prompt.size());
  auto fail = [&](std::string message) {
    result.finish = FinishReason::kError;
    result.error = std::move(message);
    return result;
  };
  if (params.prompt.empty()) return fail("empty prompt");
  if (!PrepareSession(slot, params.sampling, &result.error)) return fail(result.error);
  ember_session* session = slot.session.get();

  const size_t reused = ReusablePrefix(slot_index, params.prompt);
  if (reused == 0 && !slot.history.empty()) {
    const ember_status st = ember_session_reset(session);
    if (st != EMBER_OK) return fail(LastError("resetting the session", st));
    slot.history.clear();
  }
  result.reused_tokens = static_cast<int32_t>(reused);
  const int32_t room = n_ctx_ - static_cast<int32_t>(params.prompt.size());
  if (room <= 0) return fail("the prompt does not fit the context");
  const int32_t max_tokens = std::min(params.max_tokens, room);

  if (cancel.load(std::memory_order_acquire)) {
    result.finish = FinishReason::kCancelled;
    return result;
  }
  ember_status st = ember_session_eval(session, params.prompt.data() + reused, params.prompt.size() - reused,
                                       nullptr, 0);
  if (st == EMBER_ERR_CANCELLED) {
    result.finish = FinishReason::kCancelled;
    return result;
  }
  if (st != EMBER_OK) {
    // eval is all-or-nothing, but start the next request from a clean slate anyway.
    ember_session_reset(session);
    slot.history.clear();
    return fail(LastError("evaluating the prompt", st));
  }
  slot.history.assign(params.prompt.begin(), params.prompt.end());

  // TODO(generate_ex): ember_session_generate_ex with stop strings and stop token ids.
  StopFilter stop(params.stop);
  GenerationState state;
  state.sink = &sink;
  state.cancel = &cancel;
  state.stop = &stop;
  state.history = &slot.history;
  state.end_of_turn_token = end_of_turn_token_;
  int32_t n_generated = 0;
  st = ember_session_generate(session, "", 0, EMBER_TOKENIZE_NO_BOS, max_tokens, EMBER_GENERATE_DEFAULT, OnToken,
                              &state, &n_generated);
  // The end-of-turn token was counted by the library but is not part of the answer.
  result.completion_tokens = n_generated - (state.end_of_turn ? 1 : 0);
  if (st == EMBER_ERR_CANCELLED || state.cancelled) {
    result.finish = FinishReason::kCancelled;
    return result;
  }
  if (st != EMBER_OK) {
    ember_session_reset(session);
    slot.history.clear();
    return fail(LastError("generating", st));
  }
  if (!state.stopped_by_text) {
    const std::string rest = stop.Flush();
    if (!rest.empty()) sink(rest);
  }
  const bool hit_limit = !state.stopped_by_text && !state.end_of_turn && n_generated >= max_tokens;
  result.finish = hit_limit ? FinishReason::kLength : FinishReason::kStop;
  return result;
}

void Engine::Cancel(int32_t slot_index) {
  Slot& slot = *slots_[static_cast<size_t>(slot_index)];
  std::lock_guard<std::mutex> lock(slot.mu);
  if (slot.session) ember_session_cancel(slot.session.get());
}

}  // namespace ember::server
