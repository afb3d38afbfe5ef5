// ember_session_generate[_ex]: argument checks and status mapping around ember::Generator
// (lib/runtime/generator.h), which owns the generation loop.
#include <string>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/base/errors.h"
#include "lib/runtime/generator.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace ember::api {
bool ResolveEncodeOptions(const ember_model* model, uint32_t flags, ember::EncodeOptions* options);
}  // namespace ember::api

namespace {

// The part both entry points share, once their options are an ember::GenerateOptions.
ember_status Generate(const char* fn, ember_session* session, const char* prompt, size_t prompt_len,
                      uint32_t tokenize_flags, const ember::GenerateOptions& options,
                      ember_token_callback callback, void* user_data, int32_t* n_generated,
                      int32_t* stop_reason) {
  if (prompt == nullptr && prompt_len > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": prompt is NULL");
  if (tokenize_flags & ~uint32_t{7}) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": unknown tokenize flags");
  }
  ember::EncodeOptions encode;
  if (!ember::api::ResolveEncodeOptions(session->owner, tokenize_flags, &encode)) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": ADD_BOS and NO_BOS both set");
  }
  auto sink = [&](int32_t token, std::string_view text) {
    return callback != nullptr && callback(user_data, token, text.data(), text.size()) != 0;
  };
  ember::GenerateResult result;
  ember::Generator generator(*session->session, options);
  const absl::Status st = generator.Run(std::string_view(prompt ? prompt : "", prompt_len), encode, sink, &result);
  session->last_drafted = result.n_drafted;
  session->last_accepted = result.n_accepted;
  if (n_generated != nullptr) *n_generated = result.n_generated;
  if (stop_reason != nullptr) *stop_reason = static_cast<int32_t>(result.stop_reason);
  return Report(ember::Annotate(st, fn));
}

}  // namespace

extern "C" {

ember_status ember_session_generate(ember_session* session, const char* prompt, size_t prompt_len,
                                    uint32_t tokenize_flags, int32_t max_tokens, uint32_t generate_flags,
                                    ember_token_callback callback, void* user_data, int32_t* n_generated) {
  constexpr char kFn[] = "ember_session_generate";
  if (session == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: session is NULL");
  return Guard(kFn, [&]() -> ember_status {
    if (n_generated != nullptr) *n_generated = 0;
    if (max_tokens < 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: max_tokens < 0");
    if (generate_flags & ~uint32_t{EMBER_GENERATE_IGNORE_EOS}) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: unknown generate flags");
    }
    ember::GenerateOptions options;
    options.max_tokens = max_tokens;
    options.ignore_eos = (generate_flags & EMBER_GENERATE_IGNORE_EOS) != 0;
    return Generate(kFn, session, prompt, prompt_len, tokenize_flags, options, callback, user_data, n_generated,
                    nullptr);
  });
}

ember_status ember_session_generate_ex(ember_session* session, const char* prompt, size_t prompt_len,
                                       uint32_t tokenize_flags, const ember_generate_options* options,
                                       ember_token_callback callback, void* user_data, int32_t* n_generated,
                                       int32_t* stop_reason) {
  constexpr char kFn[] = "ember_session_generate_ex";
  if (n_generated != nullptr) *n_generated = 0;
  if (stop_reason != nullptr) *stop_reason = EMBER_STOP_NONE;
  if (session == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate_ex: session is NULL");
  return Guard(kFn, [&]() -> ember_status {
    const ember::GenerateOptions defaults;
    return Generate(kFn, session, prompt, prompt_len, tokenize_flags, options ? options->options : defaults,
                    callback, user_data, n_generated, stop_reason);
  });
}

ember_status ember_session_speculation_stats(const ember_session* session, int32_t* n_drafted,
                                             int32_t* n_accepted) {
  if (session == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_speculation_stats: session is NULL");
  if (n_drafted != nullptr) *n_drafted = session->last_drafted;
  if (n_accepted != nullptr) *n_accepted = session->last_accepted;
  return EMBER_OK;
}

}  // extern "C"
