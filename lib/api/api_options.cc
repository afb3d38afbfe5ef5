// The option objects: created with defaults, changed through typed setters that check
// every value, copied by the calls that use them.
#include <cmath>
#include <new>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/base/errors.h"
#include "lib/grammar/grammar_constraint.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace {

template <typename T>
ember_status CreateOptions(T** out, const char* what) {
  if (out == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(what) + ": out is NULL");
  *out = new (std::nothrow) T();
  if (*out == nullptr) return Fail(EMBER_ERR_OUT_OF_MEMORY, std::string(what) + ": out of memory");
  return EMBER_OK;
}

ember_status NullOptions(const char* fn) {
  return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": options is NULL");
}

// Applies `change` to a copy of the sampler parameters and keeps it only if valid.
template <typename Change>
ember_status SetSamplerParam(ember_sampler_options* o, const char* fn, Change change) {
  if (o == nullptr) return NullOptions(fn);
  ember::SamplerParams p = o->params;
  change(p);
  absl::Status st = ember::ValidateSamplerParams(p);
  if (!st.ok()) return Report(absl::InvalidArgumentError(std::string(fn) + ": " + std::string(st.message())));
  o->params = p;
  return EMBER_OK;
}

}  // namespace

extern "C" {

ember_status ember_model_options_create(ember_model_options** out) {
  return CreateOptions(out, "ember_model_options_create");
}
void ember_model_options_free(ember_model_options* options) { delete options; }

ember_status ember_model_options_set_log_callback(ember_model_options* o, ember_log_callback callback,
                                                  void* user_data, int32_t min_level) {
  if (o == nullptr) return NullOptions("ember_model_options_set_log_callback");
  if (min_level < EMBER_LOG_DEBUG || min_level > EMBER_LOG_ERROR) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_model_options_set_log_callback: min_level out of range");
  }
  o->load.log.fn = callback;
  o->load.log.user_data = user_data;
  o->load.log.min_level = static_cast<ember::LogLevel>(min_level);
  return EMBER_OK;
}

ember_status ember_model_options_set_weight_format(ember_model_options* o, int32_t weight_format) {
  if (o == nullptr) return NullOptions("ember_model_options_set_weight_format");
  switch (weight_format) {
    case EMBER_WEIGHTS_AS_STORED: o->load.weight_format = ember::WeightFormat::kAsStored; break;
    case EMBER_WEIGHTS_Q8_0: o->load.weight_format = ember::WeightFormat::kQ8_0; break;
    case EMBER_WEIGHTS_Q4_0: o->load.weight_format = ember::WeightFormat::kQ4_0; break;
    default:
      return Fail(EMBER_ERR_INVALID_ARGUMENT,
                  "ember_model_options_set_weight_format: unknown weight format " + std::to_string(weight_format));
  }
  return EMBER_OK;
}

ember_status ember_sampler_options_create(ember_sampler_options** out) {
  return CreateOptions(out, "ember_sampler_options_create");
}
void ember_sampler_options_free(ember_sampler_options* options) { delete options; }

ember_status ember_sampler_options_set_temperature(ember_sampler_options* o, float t) {
  return SetSamplerParam(o, "ember_sampler_options_set_temperature", [&](ember::SamplerParams& p) { p.temperature = t; });
}
ember_status ember_sampler_options_set_top_k(ember_sampler_options* o, int32_t k) {
  return SetSamplerParam(o, "ember_sampler_options_set_top_k", [&](ember::SamplerParams& p) { p.top_k = k; });
}
ember_status ember_sampler_options_set_top_p(ember_sampler_options* o, float v) {
  return SetSamplerParam(o, "ember_sampler_options_set_top_p", [&](ember::SamplerParams& p) { p.top_p = v; });
}
ember_status ember_sampler_options_set_min_p(ember_sampler_options* o, float v) {
  return SetSamplerParam(o, "ember_sampler_options_set_min_p", [&](ember::SamplerParams& p) { p.min_p = v; });
}
ember_status ember_sampler_options_set_repeat_penalty(ember_sampler_options* o, float penalty, int32_t last_n) {
  return SetSamplerParam(o, "ember_sampler_options_set_repeat_penalty", [&](ember::SamplerParams& p) {
    p.repeat_penalty = penalty;
    p.repeat_last_n = last_n;
  });
}
ember_status ember_sampler_options_set_seed(ember_sampler_options* o, uint64_t seed) {
  return SetSamplerParam(o, "ember_sampler_options_set_seed", [&](ember::SamplerParams& p) { p.seed = seed; });
}

ember_status ember_sampler_options_set_presence_penalty(ember_sampler_options* o, float penalty) {
  return SetSamplerParam(o, "ember_sampler_options_set_presence_penalty",
                         [&](ember::SamplerParams& p) { p.presence_penalty = penalty; });
}
ember_status ember_sampler_options_set_frequency_penalty(ember_sampler_options* o, float penalty) {
  return SetSamplerParam(o, "ember_sampler_options_set_frequency_penalty",
                         [&](ember::SamplerParams& p) { p.frequency_penalty = penalty; });
}

ember_status ember_sampler_options_set_logit_bias(ember_sampler_options* o, const int32_t* tokens,
                                                  const float* biases, size_t n) {
  constexpr char kFn[] = "ember_sampler_options_set_logit_bias";
  if (o == nullptr) return NullOptions(kFn);
  return Guard(kFn, [&]() -> ember_status {
    if ((tokens == nullptr || biases == nullptr) && n > 0) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(kFn) + ": tokens or biases is NULL");
    }
    ember::SamplerParams p = o->params;
    p.logit_bias.clear();
    for (size_t i = 0; i < n; ++i) p.logit_bias.push_back({tokens[i], biases[i]});
    absl::Status st = ember::ValidateSamplerParams(p);
    if (!st.ok()) return Report(ember::Annotate(st, kFn));
    ember::NormalizeLogitBias(&p.logit_bias);
    o->params = std::move(p);
    return EMBER_OK;
  });
}

ember_status ember_sampler_options_set_grammar(ember_sampler_options* o, int32_t kind, const char* text,
                                               size_t len) {
  constexpr char kFn[] = "ember_sampler_options_set_grammar";
  if (o == nullptr) return NullOptions(kFn);
  return Guard(kFn, [&]() -> ember_status {
    ember::grammar::GrammarKind grammar_kind;
    switch (kind) {
      case EMBER_GRAMMAR_NONE:
        o->params.grammar = nullptr;
        return EMBER_OK;
      case EMBER_GRAMMAR_GBNF: grammar_kind = ember::grammar::GrammarKind::kGbnf; break;
      case EMBER_GRAMMAR_JSON_SCHEMA: grammar_kind = ember::grammar::GrammarKind::kJsonSchema; break;
      case EMBER_GRAMMAR_JSON_OBJECT: grammar_kind = ember::grammar::GrammarKind::kJsonObject; break;
      default:
        return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(kFn) + ": unknown grammar kind " + std::to_string(kind));
    }
    if (text == nullptr && len > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(kFn) + ": text is NULL");
    const std::string_view source = grammar_kind == ember::grammar::GrammarKind::kJsonObject || text == nullptr
                                        ? std::string_view()
                                        : std::string_view(text, len);
    absl::StatusOr<std::shared_ptr<const ember::grammar::Program>> program =
        ember::grammar::CompileConstraint(grammar_kind, source);
    if (!program.ok()) return Report(ember::Annotate(program.status(), kFn));
    o->params.grammar = *std::move(program);
    return EMBER_OK;
  });
}

ember_status ember_session_options_create(ember_session_options** out) {
  return CreateOptions(out, "ember_session_options_create");
}
void ember_session_options_free(ember_session_options* options) { delete options; }

ember_status ember_session_options_set_n_ctx(ember_session_options* o, int32_t n_ctx) {
  if (o == nullptr) return NullOptions("ember_session_options_set_n_ctx");
  if (n_ctx < 1 || n_ctx > (1 << 24)) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_options_set_n_ctx: n_ctx must be in [1, 2^24], got " +
                                                std::to_string(n_ctx));
  }
  o->session.n_ctx = n_ctx;
  o->n_ctx_set = true;
  return EMBER_OK;
}

ember_status ember_session_options_set_n_threads(ember_session_options* o, int32_t n_threads) {
  if (o == nullptr) return NullOptions("ember_session_options_set_n_threads");
  if (n_threads < 1 || n_threads > 256) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_options_set_n_threads: n_threads must be in [1, 256], got " +
                                                std::to_string(n_threads));
  }
  o->session.n_threads = n_threads;
  o->n_threads_set = true;
  return EMBER_OK;
}

ember_status ember_session_options_set_max_kv_bytes(ember_session_options* o, uint64_t max_bytes) {
  if (o == nullptr) return NullOptions("ember_session_options_set_max_kv_bytes");
  o->session.max_kv_bytes = max_bytes;
  return EMBER_OK;
}

ember_status ember_session_options_set_context_shift(ember_session_options* o, int32_t enable, int32_t n_keep) {
  if (o == nullptr) return NullOptions("ember_session_options_set_context_shift");
  if (n_keep < 0) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_options_set_context_shift: n_keep must be >= 0");
  }
  o->session.context_shift = enable != 0;
  o->session.n_keep = n_keep;
  return EMBER_OK;
}

ember_status ember_session_options_set_batch_invariant(ember_session_options* o, int32_t enable) {
  if (o == nullptr) return NullOptions("ember_session_options_set_batch_invariant");
  o->session.batch_invariant = enable != 0;
  return EMBER_OK;
}

ember_status ember_session_options_set_kv_type(ember_session_options* o, int32_t kv_type) {
  if (o == nullptr) return NullOptions("ember_session_options_set_kv_type");
  switch (kv_type) {
    case EMBER_KV_F32: o->session.kv_type = ember::KvType::kF32; break;
    case EMBER_KV_F16: o->session.kv_type = ember::KvType::kF16; break;
    case EMBER_KV_BF16: o->session.kv_type = ember::KvType::kBF16; break;
    default:
      return Fail(EMBER_ERR_INVALID_ARGUMENT,
                  "ember_session_options_set_kv_type: unknown KV type " + std::to_string(kv_type));
  }
  return EMBER_OK;
}

ember_status ember_session_options_set_sampler(ember_session_options* o, const ember_sampler_options* sampler) {
  if (o == nullptr) return NullOptions("ember_session_options_set_sampler");
  if (sampler == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_options_set_sampler: sampler is NULL");
  o->sampler = sampler->params;
  return EMBER_OK;
}

ember_status ember_generate_options_create(ember_generate_options** out) {
  return CreateOptions(out, "ember_generate_options_create");
}
void ember_generate_options_free(ember_generate_options* options) { delete options; }

ember_status ember_generate_options_set_max_tokens(ember_generate_options* o, int32_t max_tokens) {
  if (o == nullptr) return NullOptions("ember_generate_options_set_max_tokens");
  if (max_tokens < 0) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT,
                "ember_generate_options_set_max_tokens: max_tokens must be >= 0, got " + std::to_string(max_tokens));
  }
  o->options.max_tokens = max_tokens;
  return EMBER_OK;
}

ember_status ember_generate_options_set_lookup(ember_generate_options* o, int32_t n_draft) {
  if (o == nullptr) return NullOptions("ember_generate_options_set_lookup");
  if (n_draft < 0 || n_draft > ember::kMaxLookup) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generate_options_set_lookup: n_draft must be in 0.." +
                                                std::to_string(ember::kMaxLookup) + ", got " + std::to_string(n_draft));
  }
  o->options.lookup = n_draft;
  return EMBER_OK;
}

ember_status ember_generate_options_set_draft(ember_generate_options* o, ember_session* draft, int32_t n_draft) {
  if (o == nullptr) return NullOptions("ember_generate_options_set_draft");
  if (n_draft < 0 || n_draft > ember::kMaxLookup) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generate_options_set_draft: n_draft must be in 0.." +
                                                std::to_string(ember::kMaxLookup) + ", got " + std::to_string(n_draft));
  }
  if (draft == nullptr && n_draft > 0) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generate_options_set_draft: draft is NULL with n_draft > 0");
  }
  o->options.draft = draft != nullptr ? draft->session.get() : nullptr;
  o->options.draft_n = n_draft;
  return EMBER_OK;
}

ember_status ember_generate_options_set_ignore_eos(ember_generate_options* o, int32_t ignore_eos) {
  if (o == nullptr) return NullOptions("ember_generate_options_set_ignore_eos");
  o->options.ignore_eos = ignore_eos != 0;
  return EMBER_OK;
}

ember_status ember_generate_options_set_stop_strings(ember_generate_options* o, const char* const* strings,
                                                     size_t n) {
  constexpr char kFn[] = "ember_generate_options_set_stop_strings";
  if (o == nullptr) return NullOptions(kFn);
  return Guard(kFn, [&]() -> ember_status {
    if (strings == nullptr && n > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(kFn) + ": strings is NULL");
    ember::GenerateOptions changed = o->options;
    changed.stop_strings.clear();
    for (size_t i = 0; i < n; ++i) {
      if (strings[i] == nullptr) {
        return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(kFn) + ": strings[" + std::to_string(i) + "] is NULL");
      }
      changed.stop_strings.emplace_back(strings[i]);
    }
    absl::Status st = ember::ValidateGenerateOptions(changed);
    if (!st.ok()) return Report(ember::Annotate(st, kFn));
    o->options = std::move(changed);
    return EMBER_OK;
  });
}

ember_status ember_generate_options_set_stop_tokens(ember_generate_options* o, const int32_t* tokens, size_t n) {
  constexpr char kFn[] = "ember_generate_options_set_stop_tokens";
  if (o == nullptr) return NullOptions(kFn);
  return Guard(kFn, [&]() -> ember_status {
    if (tokens == nullptr && n > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(kFn) + ": tokens is NULL");
    for (size_t i = 0; i < n; ++i) {
      if (tokens[i] < 0) {
        return Fail(EMBER_ERR_INVALID_TOKEN, std::string(kFn) + ": token id " + std::to_string(tokens[i]) +
                                                  " is negative");
      }
    }
    o->options.stop_tokens.assign(tokens, tokens + n);
    return EMBER_OK;
  });
}

}  // extern "C"
