// Session state save/load, clone, truncate, tokens and prefix reuse: argument checks and
// status mapping over lib/runtime (Session, session_state.h). The state functions take the
// sampler explicitly; here it is always the session's own.
#include <cstring>
#include <memory>
#include <string>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/runtime/session_state.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace {

ember_status NullArgument(const char* fn, const char* what) {
  return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + what + " is NULL");
}

}  // namespace

extern "C" {

ember_status ember_session_state_save(const ember_session* session, void* buf, size_t capacity, size_t* size) {
  constexpr const char* fn = "ember_session_state_save";
  return Guard(fn, [&]() -> ember_status {
    if (session == nullptr) return NullArgument(fn, "session");
    if (size == nullptr) return NullArgument(fn, "size");
    if (buf == nullptr && capacity > 0) return NullArgument(fn, "buf");
    const uint64_t needed = ember::SessionStateSize(*session->session, session->session->sampler());
    *size = static_cast<size_t>(needed);
    if (needed > capacity) {
      return Fail(EMBER_ERR_BUFFER_TOO_SMALL, std::string(fn) + ": " + std::to_string(needed) +
                                                  " bytes needed, capacity " + std::to_string(capacity));
    }
    return Report(ember::SaveSessionState(*session->session, session->session->sampler(),
                                          absl::MakeSpan(static_cast<char*>(buf), *size)));
  });
}

ember_status ember_session_state_load(ember_session* session, const void* buf, size_t size) {
  constexpr const char* fn = "ember_session_state_load";
  return Guard(fn, [&]() -> ember_status {
    if (session == nullptr) return NullArgument(fn, "session");
    if (buf == nullptr && size > 0) return NullArgument(fn, "buf");
    return Report(ember::LoadSessionState(std::string_view(static_cast<const char*>(buf), buf ? size : 0),
                                          session->session.get(), &session->session->sampler()));
  });
}

ember_status ember_session_state_save_file(const ember_session* session, const char* path) {
  constexpr const char* fn = "ember_session_state_save_file";
  return Guard(fn, [&]() -> ember_status {
    if (session == nullptr) return NullArgument(fn, "session");
    if (path == nullptr) return NullArgument(fn, "path");
    return Report(ember::SaveSessionStateFile(*session->session, session->session->sampler(), path));
  });
}

ember_status ember_session_state_load_file(ember_session* session, const char* path) {
  constexpr const char* fn = "ember_session_state_load_file";
  return Guard(fn, [&]() -> ember_status {
    if (session == nullptr) return NullArgument(fn, "session");
    if (path == nullptr) return NullArgument(fn, "path");
    return Report(ember::LoadSessionStateFile(path, session->session.get(), &session->session->sampler()));
  });
}

ember_status ember_session_clone(const ember_session* src, ember_session** out) {
  constexpr const char* fn = "ember_session_clone";
  return Guard(fn, [&]() -> ember_status {
    if (out == nullptr) return NullArgument(fn, "out");
    *out = nullptr;
    if (src == nullptr) return NullArgument(fn, "src");
    auto copy = src->session->Clone();
    if (!copy.ok()) return Report(copy.status());
    auto handle = std::make_unique<ember_session>();
    handle->session = std::move(copy).value();
    handle->owner = src->owner;
    src->owner->refs.fetch_add(1, std::memory_order_acq_rel);
    *out = handle.release();
    return EMBER_OK;
  });
}

ember_status ember_session_truncate(ember_session* session, int32_t n_keep) {
  constexpr const char* fn = "ember_session_truncate";
  return Guard(fn, [&]() -> ember_status {
    if (session == nullptr) return NullArgument(fn, "session");
    return Report(session->session->Truncate(n_keep));
  });
}

ember_status ember_session_tokens(const ember_session* session, int32_t* ids, size_t capacity, size_t* n_tokens) {
  constexpr const char* fn = "ember_session_tokens";
  return Guard(fn, [&]() -> ember_status {
    if (session == nullptr) return NullArgument(fn, "session");
    if (n_tokens == nullptr) return NullArgument(fn, "n_tokens");
    if (ids == nullptr && capacity > 0) return NullArgument(fn, "ids");
    const absl::Span<const int32_t> tokens = session->session->tokens();
    *n_tokens = tokens.size();
    if (tokens.size() > capacity) {
      return Fail(EMBER_ERR_BUFFER_TOO_SMALL, std::string(fn) + ": " + std::to_string(tokens.size()) +
                                                  " tokens, capacity " + std::to_string(capacity));
    }
    if (!tokens.empty()) std::memcpy(ids, tokens.data(), tokens.size() * sizeof(int32_t));
    return EMBER_OK;
  });
}

ember_status ember_session_eval_reuse(ember_session* session, const int32_t* ids, size_t n_ids, size_t* n_reused) {
  constexpr const char* fn = "ember_session_eval_reuse";
  if (session == nullptr) return NullArgument(fn, "session");
  return Guard(fn, [&]() -> ember_status {
    if (n_reused != nullptr) *n_reused = 0;
    if (ids == nullptr && n_ids > 0) return NullArgument(fn, "ids");
    if (n_ids > static_cast<size_t>(INT32_MAX)) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, std::string(fn) + ": n_ids too large");
    }
    int32_t reused = 0;
    const absl::Status st = session->session->EvalReuse(absl::MakeConstSpan(ids, n_ids), &reused);
    if (n_reused != nullptr) *n_reused = static_cast<size_t>(reused);
    return Report(st);
  });
}

}  // extern "C"
