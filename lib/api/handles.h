// What the opaque C handles really are. Only lib/api sees these definitions.
#ifndef EMBER_API_HANDLES_H_
#define EMBER_API_HANDLES_H_

#include <atomic>
#include <memory>
#include <string>

#include "ember/ember.h"
#include <vector>

#include "lib/chat/chat_apply.h"
#include "lib/model/model.h"
#include "lib/runtime/sampler.h"
#include "lib/runtime/session.h"

struct ember_model_options {
  ember::ModelLoadOptions load;
};

struct ember_sampler_options {
  ember::SamplerParams params;
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

struct ember_chat {
  std::vector<ember::chat::ChatMessage> messages;
};

struct ember_session {
  ember_model* owner = nullptr;
  std::unique_ptr<ember::Session> session;
  std::unique_ptr<ember::Sampler> sampler;
  int32_t n_sampleable = 0;  // ids the sampler may pick (the tokenizer's real tokens)
  std::atomic<bool> cancel_requested{false};
  std::atomic<bool> busy{false};
};

namespace ember::api {

// The text of token `id` (lib/tokenizer's TokenBytes), except that output rows the
// tokenizer has no token for (ids in [n_tokens, n_vocab)) render as "".
absl::Status TokenText(const ember::Model& model, int32_t id, bool skip_special, std::string* out);

// Drops one reference; deletes the model when none is left.
void ReleaseModel(ember_model* model);

// Marks a session call in progress: clears any stale cancel request first, so a cancel
// only affects the call it overlaps with.
class BusyScope {
 public:
  explicit BusyScope(ember_session* s) : s_(s) {
    s_->cancel_requested.store(false, std::memory_order_relaxed);
    s_->busy.store(true, std::memory_order_release);
  }
  ~BusyScope() { s_->busy.store(false, std::memory_order_release); }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  ember_session* s_;
};

}  // namespace ember::api

#endif  // EMBER_API_HANDLES_H_
