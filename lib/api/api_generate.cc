// ember_session_generate: tokenize, prefill, then sample/evaluate token by token,
// streaming text that never splits a UTF-8 character.
#include <string>
#include <vector>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/base/errors.h"
#include "lib/tokenizer/utf8.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace ember::api {
bool ResolveEncodeOptions(const ember_model* model, uint32_t flags, ember::EncodeOptions* options);
}  // namespace ember::api

extern "C" {

ember_status ember_session_generate(ember_session* session, const char* prompt, size_t prompt_len,
                                    uint32_t tokenize_flags, int32_t max_tokens, uint32_t generate_flags,
                                    ember_token_callback callback, void* user_data, int32_t* n_generated) {
  if (session == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: session is NULL");
  return Guard("ember_session_generate", [&]() -> ember_status {
    if (n_generated != nullptr) *n_generated = 0;
    if (prompt == nullptr && prompt_len > 0) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: prompt is NULL");
    }
    if (max_tokens < 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: max_tokens < 0");
    if (tokenize_flags & ~uint32_t{7}) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: unknown tokenize flags");
    if (generate_flags & ~uint32_t{EMBER_GENERATE_IGNORE_EOS}) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: unknown generate flags");
    }
    const ember::Model& model = *session->owner->model;
    const ember::Tokenizer& tok = model.tokenizer();
    ember::EncodeOptions encode;
    if (!ember::api::ResolveEncodeOptions(session->owner, tokenize_flags, &encode)) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: ADD_BOS and NO_BOS both set");
    }
    if (session->session->n_past() > 0) encode.add_bos = false;  // BOS only starts a sequence

    std::vector<int32_t> ids;
    absl::Status st = tok.Encode(std::string_view(prompt ? prompt : "", prompt_len), encode, &ids);
    if (!st.ok()) return Report(st);
    if (ids.empty() && !session->session->has_logits()) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_generate: empty prompt on an empty session");
    }

    ember::api::BusyScope busy(session);
    if (!ids.empty()) {
      st = session->session->Eval(ids, nullptr, &session->cancel_requested);
      if (!st.ok()) return Report(st);
    }
    const bool stop_at_eos = !(generate_flags & EMBER_GENERATE_IGNORE_EOS);
    ember::Utf8Stream stream;
    std::string piece, text;
    for (int32_t i = 0; i < max_tokens; ++i) {
      if (session->cancel_requested.load(std::memory_order_acquire)) {
        return Report(ember::CancelledError("ember_session_generate: cancelled"));
      }
      const int32_t token = session->sampler->Sample(session->session->last_logits(), session->n_sampleable,
                                                     session->session->tokens());
      const bool is_eos = token == tok.eos();
      if (is_eos && stop_at_eos) break;
      st = session->session->Eval(absl::MakeConstSpan(&token, 1), nullptr, &session->cancel_requested);
      if (!st.ok()) return Report(st);
      if (n_generated != nullptr) *n_generated = i + 1;
      st = ember::api::TokenText(model, token, /*skip_special=*/true, &piece);
      if (!st.ok()) return Report(st);
      text.clear();
      stream.Push(piece, &text);
      if (callback != nullptr && callback(user_data, token, text.data(), text.size()) != 0) break;
    }
    return EMBER_OK;
  });
}

}  // extern "C"
