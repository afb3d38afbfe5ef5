// ember.hpp — header-only C++17 wrappers over the C API in ember.h.
//
// Nothing here is compiled into libember: these classes only call the exported C functions,
// so they carry no ABI of their own and work with any libember.so.0 of this major version.
//
//   - Every handle (Model, Session and the option objects) is a move-only RAII owner of the
//     C handle; its destructor calls the matching *_free function. A moved-from object holds
//     no handle (get() returns nullptr) and may only be destroyed or assigned to.
//   - Every failing status becomes an ember::Error exception carrying the status and the
//     message of ember_last_error(), consistently: no wrapper returns a status.
//   - Text goes in as std::string_view (explicit length, no NUL needed, except for paths,
//     which are copied to add one) and comes out as std::string; ids are std::vector<int32_t>.
//   - Streaming is a callback: Session::generate() calls a std::function per token.
//   - Thread safety is the C API's (see ember.h): a Model may be shared by threads, a Session
//     is used by one thread at a time except for cancel().
//
// Adding a wrapper for a new C function: a status-returning call is
//     check(ember_new_thing(get(), args...));
// a call that fills a caller buffer and reports the needed size uses detail::fill_buffer;
// a new handle type is a class holding detail::Handle<T, ember_T_free>.
#ifndef EMBER_EMBER_HPP
#define EMBER_EMBER_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/ember.h"

namespace ember {

// A failed ember call: status() is the ember_status, message() the text of
// ember_last_error() at the time of the failure; what() is "EMBER_ERR_...: message".
class Error : public std::runtime_error {
 public:
  Error(ember_status status, std::string message)
      : std::runtime_error(std::string(ember_status_name(status)) + ": " + message),
        status_(status),
        message_(std::move(message)) {}
  ember_status status() const noexcept { return status_; }
  const std::string& message() const noexcept { return message_; }

 private:
  ember_status status_;
  std::string message_;
};

// Throws Error for any status other than EMBER_OK (the message is read on this thread,
// right after the failed call, as ember.h requires).
inline void check(ember_status status) {
  if (status != EMBER_OK) throw Error(status, ember_last_error());
}

inline std::string version() { return ember_version(); }
inline int32_t version_number() { return ember_version_number(); }
inline std::string status_name(ember_status status) { return ember_status_name(status); }

// Installs the process-wide log sink (see ember_set_log_callback); nullptr silences.
inline void set_log_callback(ember_log_callback callback, void* user_data, int32_t min_level) {
  ember_set_log_callback(callback, user_data, min_level);
}

namespace detail {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* handle) const noexcept { Free(handle); }
};
// The owner of one C handle: move-only, frees it exactly once.
template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

// Creates a handle through a `ember_status create(T**)` function.
template <typename T, void (*Free)(T*)>
Handle<T, Free> create(ember_status (*create_fn)(T**)) {
  T* raw = nullptr;
  check(create_fn(&raw));
  return Handle<T, Free>(raw);
}

// Calls `call(data, capacity, &needed)` for a C function that fills a caller buffer and
// reports the needed size; grows once on EMBER_ERR_BUFFER_TOO_SMALL. Container is
// std::string or std::vector.
template <typename Container, typename Call>
Container fill_buffer(Call call, std::size_t first_guess) {
  Container out(first_guess, typename Container::value_type{});
  std::size_t needed = 0;
  ember_status status = call(out.data(), out.size(), &needed);
  if (status == EMBER_ERR_BUFFER_TOO_SMALL) {
    out.resize(needed);
    status = call(out.data(), out.size(), &needed);
  }
  check(status);
  out.resize(needed);
  return out;
}

}  // namespace detail

// Options for Model (ember_model_options). Setters return *this so they chain.
class ModelOptions {
 public:
  ModelOptions() : handle_(detail::create<ember_model_options, ember_model_options_free>(
                       ember_model_options_create)) {}
  // EMBER_WEIGHTS_AS_STORED, EMBER_WEIGHTS_Q8_0 or EMBER_WEIGHTS_Q4_0.
  ModelOptions& weight_format(int32_t format) {
    check(ember_model_options_set_weight_format(get(), format));
    return *this;
  }
  // The callback must stay callable until every model loaded with these options is freed.
  ModelOptions& log_callback(ember_log_callback callback, void* user_data, int32_t min_level) {
    check(ember_model_options_set_log_callback(get(), callback, user_data, min_level));
    return *this;
  }
  ember_model_options* get() const noexcept { return handle_.get(); }

 private:
  detail::Handle<ember_model_options, ember_model_options_free> handle_;
};

// Options for the sampler (ember_sampler_options); defaults are greedy.
class SamplerOptions {
 public:
  SamplerOptions() : handle_(detail::create<ember_sampler_options, ember_sampler_options_free>(
                         ember_sampler_options_create)) {}
  SamplerOptions& temperature(float t) {
    check(ember_sampler_options_set_temperature(get(), t));
    return *this;
  }
  SamplerOptions& top_k(int32_t k) {
    check(ember_sampler_options_set_top_k(get(), k));
    return *this;
  }
  SamplerOptions& top_p(float p) {
    check(ember_sampler_options_set_top_p(get(), p));
    return *this;
  }
  SamplerOptions& min_p(float p) {
    check(ember_sampler_options_set_min_p(get(), p));
    return *this;
  }
  SamplerOptions& repeat_penalty(float penalty, int32_t last_n) {
    check(ember_sampler_options_set_repeat_penalty(get(), penalty, last_n));
    return *this;
  }
  SamplerOptions& seed(uint64_t seed) {
    check(ember_sampler_options_set_seed(get(), seed));
    return *this;
  }
  ember_sampler_options* get() const noexcept { return handle_.get(); }

 private:
  detail::Handle<ember_sampler_options, ember_sampler_options_free> handle_;
};

// Options for Session (ember_session_options).
class SessionOptions {
 public:
  SessionOptions() : handle_(detail::create<ember_session_options, ember_session_options_free>(
                         ember_session_options_create)) {}
  SessionOptions& n_ctx(int32_t n) {
    check(ember_session_options_set_n_ctx(get(), n));
    return *this;
  }
  SessionOptions& n_threads(int32_t n) {
    check(ember_session_options_set_n_threads(get(), n));
    return *this;
  }
  SessionOptions& max_kv_bytes(uint64_t bytes) {
    check(ember_session_options_set_max_kv_bytes(get(), bytes));
    return *this;
  }
  SessionOptions& context_shift(bool enable, int32_t n_keep) {
    check(ember_session_options_set_context_shift(get(), enable ? 1 : 0, n_keep));
    return *this;
  }
  // EMBER_KV_F32, EMBER_KV_F16 or EMBER_KV_BF16.
  SessionOptions& kv_type(int32_t type) {
    check(ember_session_options_set_kv_type(get(), type));
    return *this;
  }
  // The sampler is copied: `sampler` may be destroyed afterwards.
  SessionOptions& sampler(const SamplerOptions& sampler) {
    check(ember_session_options_set_sampler(get(), sampler.get()));
    return *this;
  }
  ember_session_options* get() const noexcept { return handle_.get(); }

 private:
  detail::Handle<ember_session_options, ember_session_options_free> handle_;
};

// A loaded model (ember_model): immutable, shareable by threads and sessions. It must
// outlive every Session created on it.
class Model {
 public:
  explicit Model(std::string_view path) : Model(path, nullptr) {}
  Model(std::string_view path, const ModelOptions& options) : Model(path, options.get()) {}

  int32_t n_vocab() const noexcept { return ember_model_n_vocab(get()); }
  int32_t n_tokens() const noexcept { return ember_model_n_tokens(get()); }
  int32_t n_ctx_train() const noexcept { return ember_model_n_ctx_train(get()); }
  int32_t token_bos() const noexcept { return ember_model_token_bos(get()); }
  int32_t token_eos() const noexcept { return ember_model_token_eos(get()); }
  bool adds_bos() const noexcept { return ember_model_adds_bos(get()) != 0; }
  std::string architecture() const { return ember_model_architecture(get()); }

  // UTF-8 text to ids (flags: EMBER_TOKENIZE_*).
  std::vector<int32_t> tokenize(std::string_view text,
                                uint32_t flags = EMBER_TOKENIZE_DEFAULT) const {
    return detail::fill_buffer<std::vector<int32_t>>(
        [&](int32_t* ids, std::size_t capacity, std::size_t* needed) {
          return ember_tokenize(get(), text.data(), text.size(), flags, ids, capacity, needed);
        },
        text.size() + 2);
  }

  // Ids to the bytes they spell (flags: EMBER_DETOKENIZE_*). The bytes may be invalid
  // UTF-8 if the ids split a character.
  std::string detokenize(const int32_t* ids, std::size_t n_ids,
                         uint32_t flags = EMBER_DETOKENIZE_DEFAULT) const {
    return detail::fill_buffer<std::string>(
        [&](char* text, std::size_t capacity, std::size_t* needed) {
          return ember_detokenize(get(), ids, n_ids, flags, text, capacity, needed);
        },
        n_ids * 8);
  }
  std::string detokenize(const std::vector<int32_t>& ids,
                         uint32_t flags = EMBER_DETOKENIZE_DEFAULT) const {
    return detokenize(ids.data(), ids.size(), flags);
  }

  ember_model* get() const noexcept { return handle_.get(); }

 private:
  Model(std::string_view path, const ember_model_options* options) {
    const std::string nul_terminated(path);
    ember_model* raw = nullptr;
    check(ember_model_load(nul_terminated.c_str(), options, &raw));
    handle_.reset(raw);
  }

  detail::Handle<ember_model, ember_model_free> handle_;
};

// Called by Session::generate() for each token with its id and the text it completes
// (never a split character; may be empty). Return false to stop generating.
using TokenCallback = std::function<bool(int32_t token, std::string_view text)>;

// A session (ember_session): KV cache and sampler on one Model. One thread at a time,
// except cancel(), which any thread may call while the session exists.
class Session {
 public:
  explicit Session(const Model& model) : Session(model, nullptr) {}
  Session(const Model& model, const SessionOptions& options) : Session(model, options.get()) {}

  void reset() { check(ember_session_reset(get())); }
  int32_t n_past() const noexcept { return ember_session_n_past(get()); }
  int32_t n_ctx() const noexcept { return ember_session_n_ctx(get()); }
  uint64_t kv_bytes() const noexcept { return ember_session_kv_bytes(get()); }

  // Feeds ids at the current position. On error the session is unchanged.
  void eval(const int32_t* ids, std::size_t n_ids) {
    check(ember_session_eval(get(), ids, n_ids, nullptr, 0));
  }
  void eval(const std::vector<int32_t>& ids) { eval(ids.data(), ids.size()); }
  // As eval(), returning the logits of every fed position, row-major [n_ids][n_vocab].
  std::vector<float> eval_all_logits(const std::vector<int32_t>& ids, int32_t n_vocab) {
    std::vector<float> all(ids.size() * static_cast<std::size_t>(n_vocab < 0 ? 0 : n_vocab));
    check(ember_session_eval(get(), ids.data(), ids.size(), all.data(), all.size()));
    return all;
  }

  // A copy of the last position's logits (n_vocab floats).
  std::vector<float> logits() const {
    const float* data = nullptr;
    std::size_t n = 0;
    check(ember_session_logits(get(), &data, &n));
    return std::vector<float>(data, data + n);
  }

  // The next token from the current logits (not fed back; eval() it to continue).
  int32_t sample() {
    int32_t token = -1;
    check(ember_session_sample(get(), &token));
    return token;
  }

  // Tokenizes and evaluates `prompt`, then samples up to max_tokens tokens, calling
  // `on_token` (may be empty) for each. Returns the number of tokens generated. An
  // exception thrown by on_token stops generation and is rethrown here after ember has
  // returned (exceptions never travel through the C library).
  int32_t generate(std::string_view prompt, int32_t max_tokens, const TokenCallback& on_token = {},
                   uint32_t tokenize_flags = EMBER_TOKENIZE_DEFAULT,
                   uint32_t generate_flags = EMBER_GENERATE_DEFAULT) {
    CallbackState state{&on_token, nullptr};
    int32_t n_generated = 0;
    const ember_status status = ember_session_generate(
        get(), prompt.data(), prompt.size(), tokenize_flags, max_tokens, generate_flags,
        on_token ? &Session::Trampoline : nullptr, &state, &n_generated);
    if (state.error) std::rethrow_exception(state.error);
    check(status);
    return n_generated;
  }

  // generate() that collects the generated text instead of streaming it.
  std::string generate_text(std::string_view prompt, int32_t max_tokens,
                            uint32_t tokenize_flags = EMBER_TOKENIZE_DEFAULT,
                            uint32_t generate_flags = EMBER_GENERATE_DEFAULT) {
    std::string text;
    generate(
        prompt, max_tokens,
        [&text](int32_t, std::string_view piece) {
          text.append(piece);
          return true;
        },
        tokenize_flags, generate_flags);
    return text;
  }

  // Asks the running eval/generate to stop (it then throws Error with
  // EMBER_ERR_CANCELLED). Any thread.
  void cancel() { check(ember_session_cancel(get())); }

  ember_session* get() const noexcept { return handle_.get(); }

 private:
  struct CallbackState {
    const TokenCallback* callback;
    std::exception_ptr error;
  };

  Session(const Model& model, const ember_session_options* options) {
    ember_session* raw = nullptr;
    check(ember_session_create(model.get(), options, &raw));
    handle_.reset(raw);
  }

  static int32_t Trampoline(void* user_data, int32_t token, const char* text,
                            std::size_t text_len) {
    auto* state = static_cast<CallbackState*>(user_data);
    try {
      return (*state->callback)(token, std::string_view(text, text_len)) ? 0 : 1;
    } catch (...) {
      state->error = std::current_exception();
      return 1;
    }
  }

  detail::Handle<ember_session, ember_session_free> handle_;
};

}  // namespace ember

#endif  // EMBER_EMBER_HPP
