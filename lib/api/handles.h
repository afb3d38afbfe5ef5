// What the opaque C handles really are. Only lib/api sees these definitions.
#ifndef EMBER_API_HANDLES_H_
#define EMBER_API_HANDLES_H_

#include <atomic>
#include <memory>

#include "ember/ember.h"
#include <vector>

#include "lib/chat/chat_apply.h"
#include "lib/model/model.h"
#include "lib/runtime/generator.h"
#include "lib/runtime/session.h"

struct ember_model_options {
  ember::ModelLoadOptions load;
};

struct ember_sampler_options {
  ember::SamplerParams params;
};

struct ember_generate_options {
  ember::GenerateOptions options;
};

struct ember_session_options {
  ember::SessionOptions session;
  ember::SamplerParams sampler;
  bool n_ctx_set = false;
  bool n_threads_set = false;
};

// A model handle is reference-counted: the host's reference plus one per live session,
// so that a host freeing the model before its sessions cannot leave them dangling.
struct ember_model {
  std::unique_ptr<ember::Model> model;
  std::atomic<int> refs{1};
  std::atomic<bool> freed_by_host{false};
};

// The session's state (KV cache, sampler, cancellation) lives in ember::Session; the handle
// only adds the reference that keeps the model alive.
struct ember_chat {
  std::vector<ember::chat::ChatMessage> messages;
};

struct ember_session {
  ember_model* owner = nullptr;
  std::unique_ptr<ember::Session> session;
  bool has_generator = false;  // a live ember_generator drives it (at most one)
  int32_t last_drafted = 0;     // speculation counts of the last generate_ex call
  int32_t last_accepted = 0;
};

namespace ember::api {

// Drops one reference; deletes the model when none is left.
void ReleaseModel(ember_model* model);


}  // namespace ember::api

#endif  // EMBER_API_HANDLES_H_
