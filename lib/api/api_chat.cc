// Chat templates through the C API: argument checks, then lib/chat.
#include <cstring>
#include <string>
#include <string_view>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/base/errors.h"
#include "lib/chat/template.h"
#include "lib/tokenizer/utf8.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace {

// Renders and copies out with the size-query protocol.
ember_status RenderInto(const char* fn, std::string_view source, const ember::chat::Value& context, char* text,
                        size_t capacity, size_t* text_len) {
  absl::StatusOr<std::string> out = ember::chat::RenderChatTemplate(source, context);
  if (!out.ok()) return Report(ember::Annotate(out.status(), fn));
  *text_len = out->size();
  if (out->size() > capacity) {
    return Fail(EMBER_ERR_BUFFER_TOO_SMALL, std::string(fn) + ": " + std::to_string(out->size()) +
                                                " bytes needed, capacity " + std::to_string(capacity));
  }
  if (!out->empty()) std::memcpy(text, out->data(), out->size());
  return EMBER_OK;
}

}  // namespace

extern "C" {

ember_status ember_chat_create(ember_chat** out) {
  return Guard("ember_chat_create", [&]() -> ember_status {
    if (out == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_create: out is NULL");
    *out = new ember_chat();
    return EMBER_OK;
  });
}

void ember_chat_free(ember_chat* chat) { delete chat; }

ember_status ember_chat_add(ember_chat* chat, const char* role, size_t role_len, const char* content,
                            size_t content_len) {
  return Guard("ember_chat_add", [&]() -> ember_status {
    if (chat == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_add: chat is NULL");
    if (role == nullptr && role_len > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_add: role is NULL");
    if (content == nullptr && content_len > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_add: content is NULL");
    std::string_view r(role ? role : "", role_len), c(content ? content : "", content_len);
    if (absl::Status st = ember::CheckUtf8(r, "ember_chat_add: role"); !st.ok()) return Report(st);
    if (absl::Status st = ember::CheckUtf8(c, "ember_chat_add: content"); !st.ok()) return Report(st);
    chat->messages.push_back({std::string(r), std::string(c)});
    return EMBER_OK;
  });
}

ember_status ember_chat_apply(const ember_model* model, const ember_chat* chat, const char* template_source,
                              size_t template_len, uint32_t flags, char* text, size_t capacity, size_t* text_len) {
  return Guard("ember_chat_apply", [&]() -> ember_status {
    if (chat == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply: chat is NULL");
    if (text_len == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply: text_len is NULL");
    if (text == nullptr && capacity > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply: text is NULL");
    if (model == nullptr && template_source == nullptr) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply: model is NULL and no template is given");
    }
    if (flags & ~uint32_t{EMBER_CHAT_ADD_GENERATION_PROMPT}) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply: unknown flags");
    }
    ember::chat::ModelChatInfo info;
    if (model != nullptr) {
      auto got = model->model->ChatInfo();
      if (!got.ok()) return Report(got.status());
      info = std::move(*got);
    }
    const std::string_view host(template_source ? template_source : "", template_len);
    const std::string_view source = ember::chat::ChooseTemplate(template_source ? &host : nullptr, model ? &info : nullptr);
    ember::chat::Value context = ember::chat::MessagesContext(
        chat->messages, (flags & EMBER_CHAT_ADD_GENERATION_PROMPT) != 0, model ? &info : nullptr);
    return RenderInto("ember_chat_apply", source, context, text, capacity, text_len);
  });
}

ember_status ember_chat_apply_json(const ember_model* model, const char* template_source, size_t template_len,
                                   const char* context_json, size_t json_len, char* text, size_t capacity,
                                   size_t* text_len) {
  return Guard("ember_chat_apply_json", [&]() -> ember_status {
    if (text_len == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply_json: text_len is NULL");
    if (text == nullptr && capacity > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply_json: text is NULL");
    if (context_json == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply_json: context_json is NULL");
    if (model == nullptr && template_source == nullptr) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_chat_apply_json: model is NULL and no template is given");
    }
    ember::chat::ModelChatInfo info;
    if (model != nullptr) {
      auto got = model->model->ChatInfo();
      if (!got.ok()) return Report(got.status());
      info = std::move(*got);
    }
    auto context = ember::chat::ContextFromJson(std::string_view(context_json, json_len));
    if (!context.ok()) {
      return Report(ember::Annotate(context.status(), "ember_chat_apply_json"));
    }
    const std::string_view host(template_source ? template_source : "", template_len);
    const std::string_view source = ember::chat::ChooseTemplate(template_source ? &host : nullptr, model ? &info : nullptr);
    return RenderInto("ember_chat_apply_json", source,
                      ember::chat::WithSpecialTokens(*context, model ? &info : nullptr), text, capacity, text_len);
  });
}

const char* ember_model_chat_template(const ember_model* model) {
  return model ? model->model->chat_template().c_str() : "";
}

}  // extern "C"
