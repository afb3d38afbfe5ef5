#include "server/engine.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace ember::server {
namespace {

struct SessionDeleter { void operator()(ember_session* s) const { ember_session_free(s); } };
struct SamplerDeleter { void operator()(ember_sampler_options* o) const { ember_sampler_options_free(o); } };
struct SessionOptionsDeleter { void operator()(ember_session_options* o) const { ember_session_options_free(o); } };
struct GenerateOptionsDeleter { void operator()(ember_generate_options* o) const { ember_generate_options_free(o); } };
struct GeneratorDeleter { void operator()(ember_generator* g) const { ember_generator_free(g); } };

std::string LastError(const char* what, ember_status status) {
  return std::string(what) + ": " + ember_status_name(status) + ": " + ember_last_error();
}

}  // namespace

// A slot's session lives as long as the engine: requests change its sampler, never the
// session, so its KV cache survives for the next request's prefix.
struct Engine::Slot {
  std::unique_ptr<ember_session, SessionDeleter> session;
  std::vector<int32_t> history;  // the tokens the session holds, in order
  // The running generation (between Start and Finish).
  std::unique_ptr<ember_generator, GeneratorDeleter> generator;
  TextSink sink;
  GenerateResult result;       // prompt and reused tokens
  ember_status status = EMBER_OK;  // the generation's status after the last step
  std::string step_error;      // a failed ember_generator_step (never expected)
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
  ember_session_options* options_raw = nullptr;
  st = ember_session_options_create(&options_raw);
  std::unique_ptr<ember_session_options, SessionOptionsDeleter> options(options_raw);
  if (st == EMBER_OK && config.n_ctx > 0) st = ember_session_options_set_n_ctx(options_raw, config.n_ctx);
  if (st == EMBER_OK && config.n_threads > 0) st = ember_session_options_set_n_threads(options_raw, config.n_threads);
  // The prompt cache evaluates only what follows a reused prefix: batch-invariant slots keep
  // that from changing a request's tokens (ember.h).
  if (st == EMBER_OK) st = ember_session_options_set_batch_invariant(options_raw, 1);
  if (st != EMBER_OK) {
    *error = LastError("session options", st);
    return nullptr;
  }
  for (int32_t i = 0; i < config.n_slots; ++i) {
    auto slot = std::make_unique<Slot>();
    ember_session* session = nullptr;
    st = ember_session_create(model, options_raw, &session);
    if (st != EMBER_OK) {
      *error = LastError("creating a session", st);
      return nullptr;
    }
    slot->session.reset(session);
    engine->slots_.push_back(std::move(slot));
  }
  engine->n_ctx_ = ember_session_n_ctx(engine->slots_[0]->session.get());
  return engine;
}

Engine::~Engine() {
  slots_.clear();  // sessions before the model
  model_.reset();
}

BackendCapabilities Engine::capabilities() const {
  BackendCapabilities caps;
  caps.penalties = true;
  caps.logit_bias = true;
  caps.n_vocab = n_vocab_;
  return caps;
}

namespace {

// Adds the grammar of `format` to `sampler` (nothing for plain text).
ember_status SetFormat(ember_sampler_options* sampler, const OutputFormat& format) {
  if (format.kind == ResponseFormat::kText) return EMBER_OK;
  const int32_t kind = format.kind == ResponseFormat::kJsonObject ? EMBER_GRAMMAR_JSON_OBJECT : EMBER_GRAMMAR_JSON_SCHEMA;
  return ember_sampler_options_set_grammar(sampler, kind, format.json_schema.data(), format.json_schema.size());
}

}  // namespace

bool Engine::CheckFormat(const OutputFormat& format, std::string* error) const {
  if (format.kind == ResponseFormat::kText) return true;
  ember_sampler_options* sampler_raw = nullptr;
  ember_status st = ember_sampler_options_create(&sampler_raw);
  std::unique_ptr<ember_sampler_options, SamplerDeleter> sampler(sampler_raw);
  if (st == EMBER_OK) st = SetFormat(sampler_raw, format);
  if (st != EMBER_OK) {
    *error = ember_last_error();
    return false;
  }
  return true;
}

bool Engine::SetSampler(Slot& slot, const SamplingParams& sampling, const OutputFormat& format, std::string* error) {
  // Set on every request, even an unchanged one: it restarts the random sequence from the
  // request's seed and empties the penalties' counts, and keeps the tokens and KV cache.
  ember_sampler_options* sampler_raw = nullptr;
  ember_status st = ember_sampler_options_create(&sampler_raw);
  std::unique_ptr<ember_sampler_options, SamplerDeleter> sampler(sampler_raw);
  if (st == EMBER_OK) st = ember_sampler_options_set_temperature(sampler_raw, sampling.temperature);
  if (st == EMBER_OK) st = ember_sampler_options_set_top_p(sampler_raw, sampling.top_p);
  if (st == EMBER_OK) st = ember_sampler_options_set_seed(sampler_raw, sampling.seed);
  if (st == EMBER_OK) st = ember_sampler_options_set_presence_penalty(sampler_raw, sampling.presence_penalty);
  if (st == EMBER_OK) st = ember_sampler_options_set_frequency_penalty(sampler_raw, sampling.frequency_penalty);
  if (st == EMBER_OK && !sampling.logit_bias.empty()) {
    std::vector<int32_t> ids;
    std::vector<float> biases;
    for (const auto& [id, bias] : sampling.logit_bias) {
      ids.push_back(id);
      biases.push_back(bias);
    }
    st = ember_sampler_options_set_logit_bias(sampler_raw, ids.data(), biases.data(), ids.size());
  }
  if (st == EMBER_OK) st = SetFormat(sampler_raw, format);
  if (st == EMBER_OK) st = ember_session_set_sampler(slot.session.get(), sampler_raw);
  if (st != EMBER_OK) {
    *error = LastError("sampling options", st);
    return false;
  }
  return true;
}

void Engine::RememberTokens(Slot& slot) {
  size_t n = 0;
  ember_status st = ember_session_tokens(slot.session.get(), nullptr, 0, &n);
  if (st == EMBER_OK || st == EMBER_ERR_BUFFER_TOO_SMALL) {
    slot.history.resize(n);
    st = ember_session_tokens(slot.session.get(), slot.history.data(), slot.history.size(), &n);
  }
  // Unknown contents reuse nothing; eval_reuse still keeps whatever prefix really matches.
  if (st != EMBER_OK) slot.history.clear();
}

bool Engine::TokenizeText(std::string_view text, std::vector<int32_t>* tokens, std::string* error) const {
  return TokenizeWithFlags(text, EMBER_TOKENIZE_DEFAULT, tokens, error);
}

bool Engine::TokenizeChat(const std::vector<ChatMessage>& messages, std::vector<int32_t>* tokens,
                          std::string* error) const {
  using json = nlohmann::json;
  json context = json::object();
  json& list = context["messages"] = json::array();
  for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  context["add_generation_prompt"] = true;
  std::string context_text;
  try {
    context_text = context.dump();
  } catch (const json::exception&) {
    *error = "the messages are not valid UTF-8";
    return false;
  }
  // The model's own template (or ember's default for it); one render in the common case.
  std::string text(context_text.size() * 2 + 1024, '\0');
  size_t n = 0;
  ember_status st = ember_chat_apply_json(model_.get(), nullptr, 0, context_text.data(), context_text.size(),
                                          text.data(), text.size(), &n);
  if (st == EMBER_ERR_BUFFER_TOO_SMALL) {
    text.resize(n);
    st = ember_chat_apply_json(model_.get(), nullptr, 0, context_text.data(), context_text.size(), text.data(),
                               text.size(), &n);
  }
  if (st != EMBER_OK) {
    *error = std::string("the model's chat template could not render these messages: ") + ember_last_error();
    return false;
  }
  text.resize(n);
  // The rendered text spells special tokens as text; parse them into control tokens. A
  // template writes bos_token itself when it wants one, so add BOS only where the tokenizer
  // asks for one and the template did not write it.
  if (!TokenizeWithFlags(text, EMBER_TOKENIZE_NO_BOS | EMBER_TOKENIZE_PARSE_SPECIAL, tokens, error)) return false;
  const int32_t bos = ember_model_token_bos(model_.get());
  if (ember_model_adds_bos(model_.get()) && bos >= 0 && (tokens->empty() || tokens->front() != bos)) {
    tokens->insert(tokens->begin(), bos);
  }
  return true;
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
  const std::vector<int32_t>& held = slots_[static_cast<size_t>(slot_index)]->history;
  const size_t limit = std::min(held.size(), prompt.empty() ? 0 : prompt.size() - 1);
  size_t n = 0;
  while (n < limit && held[n] == prompt[n]) ++n;
  return n;
}

namespace {

// ember_generator's token callback; user_data is the slot's TextSink.
int32_t OnToken(void* user_data, int32_t /*token*/, const char* text, size_t text_len) {
  // The library holds back text that could still become a stop string, so whatever
  // arrives here is part of the answer.
  if (text_len > 0) (*static_cast<const TextSink*>(user_data))(std::string_view(text, text_len));
  return 0;
}

}  // namespace

bool Engine::Start(int32_t slot_index, const GenerateParams& params, TextSink sink, GenerateResult* result) {
  Slot& slot = *slots_[static_cast<size_t>(slot_index)];
  ember_session* session = slot.session.get();
  *result = GenerateResult();
  result->prompt_tokens = static_cast<int32_t>(params.prompt.size());
  auto fail = [&](std::string message) {
    result->finish = FinishReason::kError;
    result->error = std::move(message);
    return false;
  };
  if (params.prompt.empty()) return fail("empty prompt");
  const int32_t room = n_ctx_ - static_cast<int32_t>(params.prompt.size());
  if (room <= 0) return fail("the prompt does not fit the context");
  const int32_t max_tokens = std::min(params.max_tokens, room);

  ember_generate_options* options_raw = nullptr;
  ember_status st = ember_generate_options_create(&options_raw);
  std::unique_ptr<ember_generate_options, GenerateOptionsDeleter> options(options_raw);
  if (st == EMBER_OK) st = ember_generate_options_set_max_tokens(options_raw, max_tokens);
  if (st == EMBER_OK && !params.stop.empty()) {
    std::vector<const char*> stops;
    for (const std::string& s : params.stop) stops.push_back(s.c_str());
    st = ember_generate_options_set_stop_strings(options_raw, stops.data(), stops.size());
  }
  if (st != EMBER_OK) return fail(LastError("generation options", st));
  std::string error;
  if (!SetSampler(slot, params.sampling, params.format, &error)) return fail(error);

  // Keeps the longest common prefix of the slot's KV cache and the prompt; evaluates the rest.
  size_t reused = 0;
  st = ember_session_eval_reuse(session, params.prompt.data(), params.prompt.size(), &reused);
  if (st != EMBER_OK) {
    RememberTokens(slot);  // eval_reuse leaves the session as it was
    if (st != EMBER_ERR_CANCELLED) return fail(LastError("evaluating the prompt", st));
    result->finish = FinishReason::kCancelled;
    return false;
  }
  result->reused_tokens = static_cast<int32_t>(reused);

  slot.sink = std::move(sink);
  ember_generator* generator = nullptr;
  st = ember_generator_create(session, options_raw, OnToken, &slot.sink, &generator);
  if (st != EMBER_OK) {
    RememberTokens(slot);
    return fail(LastError("starting the generation", st));
  }
  slot.generator.reset(generator);
  slot.result = *result;
  slot.status = EMBER_OK;
  slot.step_error.clear();
  return true;
}

void Engine::Step(const std::vector<int32_t>& slot_indices) {
  std::vector<ember_generator*> generators;
  generators.reserve(slot_indices.size());
  for (int32_t i : slot_indices) generators.push_back(slots_[static_cast<size_t>(i)]->generator.get());
  std::vector<ember_status> statuses(generators.size(), EMBER_OK);
  const ember_status st = ember_generator_step(generators.data(), generators.size(), statuses.data());
  for (size_t k = 0; k < slot_indices.size(); ++k) {
    Slot& slot = *slots_[static_cast<size_t>(slot_indices[k])];
    // A malformed step touched nothing; end every generation in it rather than spin.
    if (st != EMBER_OK) slot.step_error = LastError("stepping", st);
    slot.status = statuses[k];
  }
}

bool Engine::Done(int32_t slot_index) const {
  const Slot& slot = *slots_[static_cast<size_t>(slot_index)];
  return !slot.step_error.empty() || ember_generator_done(slot.generator.get());
}

GenerateResult Engine::Finish(int32_t slot_index, bool cancelled) {
  Slot& slot = *slots_[static_cast<size_t>(slot_index)];
  ember_generator* g = slot.generator.get();
  GenerateResult result = slot.result;
  result.completion_tokens = ember_generator_n_generated(g);
  const int32_t stop_reason = ember_generator_stop_reason(g);
  const bool done = ember_generator_done(g) != 0;
  const std::string message = ember_generator_error(g);
  slot.generator.reset();  // an unfinished generation just stops; the session keeps its tokens
  slot.sink = nullptr;
  RememberTokens(slot);
  if (!slot.step_error.empty()) {
    result.finish = FinishReason::kError;
    result.error = slot.step_error;
  } else if ((cancelled && !done) || slot.status == EMBER_ERR_CANCELLED) {
    result.finish = FinishReason::kCancelled;
  } else if (slot.status != EMBER_OK && slot.status != EMBER_ERR_CONTEXT_FULL) {
    result.finish = FinishReason::kError;
    result.error = std::string("generating: ") + ember_status_name(slot.status) + ": " + message;
  } else {
    // OpenAI's finish reasons: "length" when a token limit ended the answer, else "stop".
    result.finish = stop_reason == EMBER_STOP_MAX_TOKENS || stop_reason == EMBER_STOP_CONTEXT_FULL
                        ? FinishReason::kLength
                        : FinishReason::kStop;
  }
  return result;
}

void Engine::Cancel(int32_t slot_index) {
  // Sessions are created in Load() and never replaced, so no lock is needed here. A live
  // generator counts as a running call: it ends at its next step.
  (void)ember_session_cancel(slots_[static_cast<size_t>(slot_index)]->session.get());
}

}  // namespace ember::server
