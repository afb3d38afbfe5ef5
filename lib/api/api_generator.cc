// ember_generator_*: argument checks and status mapping around ember::Generator's stepping
// (lib/runtime/generator.h) and StepGenerators (lib/runtime/generator_step.h), which own
// the generation logic and the batched step.
#include <memory>
#include <string>
#include <vector>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/base/errors.h"
#include "lib/runtime/generator.h"
#include "lib/runtime/generator_step.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

// The host's callback as a TokenSink.
struct CallbackSink {
  ember_token_callback callback = nullptr;
  void* user_data = nullptr;
  bool operator()(int32_t token, std::string_view text) const {
    return callback != nullptr && callback(user_data, token, text.data(), text.size()) != 0;
  }
};

struct ember_generator {
  ember_generator(ember_session* s, const ember::GenerateOptions& options, CallbackSink callback)
      : session(s), generator(*s->session, options), sink(callback) {}
  ember_session* session;
  ember::Generator generator;
  CallbackSink sink;
  std::string error;  // generator.status()'s message, kept for ember_generator_error()
};

extern "C" {

ember_status ember_generator_create(ember_session* session, const ember_generate_options* options,
                                    ember_token_callback callback, void* user_data, ember_generator** out) {
  constexpr char kFn[] = "ember_generator_create";
  if (out != nullptr) *out = nullptr;
  if (session == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generator_create: session is NULL");
  if (out == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generator_create: out is NULL");
  return Guard(kFn, [&]() -> ember_status {
    if (session->has_generator) {
      return Fail(EMBER_ERR_BAD_STATE, "ember_generator_create: the session already has a live generator");
    }
    const ember::GenerateOptions defaults;
    auto g = std::make_unique<ember_generator>(session, options ? options->options : defaults,
                                               CallbackSink{callback, user_data});
    const absl::Status st = g->generator.Start(g->sink);
    if (!st.ok()) return Report(ember::Annotate(st, kFn));
    session->has_generator = true;
    *out = g.release();
    return EMBER_OK;
  });
}

ember_status ember_generator_step(ember_generator* const* generators, size_t n, ember_status* statuses) {
  constexpr char kFn[] = "ember_generator_step";
  if (n == 0) return EMBER_OK;
  if (generators == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generator_step: generators is NULL");
  if (statuses == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generator_step: statuses is NULL");
  return Guard(kFn, [&]() -> ember_status {
    std::vector<ember::GeneratorStep> items;
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (generators[i] == nullptr) {
        return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_generator_step: generator " + std::to_string(i) + " is NULL");
      }
      items.push_back({&generators[i]->generator, ember::TokenSink(generators[i]->sink)});
    }
    std::vector<absl::Status> results(n);
    const absl::Status st = ember::StepGenerators(items, absl::MakeSpan(results));
    if (!st.ok()) return Report(ember::Annotate(st, kFn));
    for (size_t i = 0; i < n; ++i) {
      ember_generator* g = generators[i];
      statuses[i] = EMBER_OK;
      if (!results[i].ok()) {
        if (g->error.empty()) g->error = std::string(kFn) + ": " + std::string(results[i].message());
        statuses[i] = Report(results[i]);  // also the thread's last error
      }
    }
    return EMBER_OK;
  });
}

int32_t ember_generator_done(const ember_generator* generator) {
  return generator == nullptr || generator->generator.done() ? 1 : 0;
}

int32_t ember_generator_stop_reason(const ember_generator* generator) {
  return generator == nullptr ? EMBER_STOP_NONE : static_cast<int32_t>(generator->generator.result().stop_reason);
}

int32_t ember_generator_n_generated(const ember_generator* generator) {
  return generator == nullptr ? 0 : generator->generator.result().n_generated;
}

const char* ember_generator_error(const ember_generator* generator) {
  return generator == nullptr ? "" : generator->error.c_str();
}

void ember_generator_free(ember_generator* generator) {
  if (generator == nullptr) return;
  generator->session->has_generator = false;
  delete generator;
}

}  // extern "C"
