// Sessions: creation, evaluation, logits, sampling and cancellation.
#include <algorithm>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/base/errors.h"
#include "lib/runtime/batch_eval.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace {

ember_status NullSession(const char* fn) {
  return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": session is NULL");
}

}  // namespace

extern "C" {

ember_status ember_session_create(const ember_model* model, const ember_session_options* options,
                                  ember_session** out) {
  return Guard("ember_session_create", [&]() -> ember_status {
    if (out == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_create: out is NULL");
    *out = nullptr;
    if (model == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_create: model is NULL");
    ember_session_options defaults;
    const ember_session_options& o = options != nullptr ? *options : defaults;
    ember::SessionOptions so = o.session;
    so.sampler = o.sampler;
    if (!o.n_ctx_set) so.n_ctx = 0;  // the session picks min(n_ctx_train, 4096)
    if (!o.n_threads_set) {
      const unsigned hw = std::thread::hardware_concurrency();
      so.n_threads = static_cast<int32_t>(std::clamp(hw == 0 ? 1u : hw, 1u, 8u));
    }
    auto session = ember::Session::Create(*model->model, so);
    if (!session.ok()) return Report(session.status());
    auto* handle = new ember_session();
    handle->session = std::move(session).value();
    auto* owner = const_cast<ember_model*>(model);
    owner->refs.fetch_add(1, std::memory_order_acq_rel);
    handle->owner = owner;
    *out = handle;
    return EMBER_OK;
  });
}

void ember_session_free(ember_session* session) {
  if (session == nullptr) return;
  ember_model* owner = session->owner;
  delete session;
  ember::api::ReleaseModel(owner);
}

ember_status ember_session_reset(ember_session* session) {
  if (session == nullptr) return NullSession("ember_session_reset");
  return Guard("ember_session_reset", [&]() -> ember_status {
    session->session->Reset();
    return EMBER_OK;
  });
}

int32_t ember_session_n_past(const ember_session* s) { return s ? s->session->n_past() : 0; }
int32_t ember_session_n_ctx(const ember_session* s) { return s ? s->session->n_ctx() : 0; }
uint64_t ember_session_kv_bytes(const ember_session* s) { return s ? s->session->kv_bytes() : 0; }

ember_status ember_session_eval(ember_session* session, const int32_t* tokens, size_t n_tokens, float* all_logits,
                                size_t all_logits_capacity) {
  if (session == nullptr) return NullSession("ember_session_eval");
  return Guard("ember_session_eval", [&]() -> ember_status {
    if (tokens == nullptr && n_tokens > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_eval: tokens is NULL");
    if (n_tokens > static_cast<size_t>(INT32_MAX)) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_eval: n_tokens too large");
    }
    const size_t n_vocab = static_cast<size_t>(session->owner->model->config().n_vocab);
    if (all_logits != nullptr && all_logits_capacity / n_vocab < n_tokens) {
      return Fail(EMBER_ERR_BUFFER_TOO_SMALL, "ember_session_eval: all_logits holds " +
                                                  std::to_string(all_logits_capacity) + " floats, " +
                                                  std::to_string(n_tokens) + " x " + std::to_string(n_vocab) +
                                                  " needed");
    }
    return Report(session->session->Eval(absl::MakeConstSpan(tokens, n_tokens), all_logits));
  });
}

ember_status ember_session_eval_batch(ember_session* const* sessions, size_t n_sessions, const int32_t* tokens,
                                      const size_t* n_tokens_each, ember_status* statuses) {
  constexpr const char* fn = "ember_session_eval_batch";
  return Guard(fn, [&]() -> ember_status {
    if (sessions == nullptr || n_tokens_each == nullptr || statuses == nullptr) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": sessions, n_tokens_each or statuses is NULL");
    }
    if (n_sessions == 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": n_sessions is 0");
    std::vector<ember::BatchItem> items(n_sessions);
    size_t offset = 0;
    for (size_t i = 0; i < n_sessions; ++i) {
      const size_t n = n_tokens_each[i];
      if (n > static_cast<size_t>(INT32_MAX)) {
        return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": n_tokens_each[" + std::to_string(i) +
                                                    "] is above INT32_MAX");
      }
      if (n > 0 && tokens == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": tokens is NULL");
      if (n > SIZE_MAX - offset) return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": token counts overflow");
      if (sessions[i] == nullptr) {
        return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": sessions[" + std::to_string(i) + "] is NULL");
      }
      items[i] = {sessions[i]->session.get(), absl::MakeConstSpan(n > 0 ? tokens + offset : nullptr, n)};
      offset += n;
    }
    std::vector<absl::Status> outcomes(n_sessions);
    const absl::Status call = ember::EvalBatch(items, absl::MakeSpan(outcomes));
    if (!call.ok()) return Report(ember::Annotate(call, fn));
    for (size_t i = 0; i < n_sessions; ++i) statuses[i] = outcomes[i].ok() ? EMBER_OK : Report(outcomes[i]);
    return EMBER_OK;
  });
}

ember_status ember_session_logits(const ember_session* session, const float** logits, size_t* n_vocab) {
  if (session == nullptr) return NullSession("ember_session_logits");
  if (logits == nullptr || n_vocab == nullptr) {
    return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_logits: logits or n_vocab is NULL");
  }
  if (!session->session->has_logits()) {
    return Fail(EMBER_ERR_BAD_STATE, "ember_session_logits: nothing has been evaluated yet");
  }
  absl::Span<const float> l = session->session->last_logits();
  *logits = l.data();
  *n_vocab = l.size();
  return EMBER_OK;
}

ember_status ember_session_sample(ember_session* session, int32_t* token) {
  if (session == nullptr) return NullSession("ember_session_sample");
  return Guard("ember_session_sample", [&]() -> ember_status {
    if (token == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_sample: token is NULL");
    absl::StatusOr<int32_t> sampled = session->session->Sample();
    if (!sampled.ok()) return Report(ember::Annotate(sampled.status(), "ember_session_sample"));
    *token = *sampled;
    return EMBER_OK;
  });
}

ember_status ember_session_set_sampler(ember_session* session, const ember_sampler_options* sampler) {
  if (session == nullptr) return NullSession("ember_session_set_sampler");
  return Guard("ember_session_set_sampler", [&]() -> ember_status {
    if (sampler == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_session_set_sampler: sampler is NULL");
    return Report(ember::Annotate(session->session->SetSampler(sampler->params), "ember_session_set_sampler"));
  });
}

ember_status ember_session_cancel(ember_session* session) {
  if (session == nullptr) return NullSession("ember_session_cancel");
  session->session->cancellation().Request();
  return EMBER_OK;
}

}  // extern "C"
