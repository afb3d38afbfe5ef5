#include "lib/chat/chat_apply.h"

#include <memory>

#include "lib/base/errors.h"
#include "lib/chat/default_templates.h"
#include "lib/chat/template.h"

namespace ember::chat {

std::string_view ChooseTemplate(const std::string_view* host_template, const ModelChatInfo* model) {
  if (host_template != nullptr) return *host_template;
  if (model != nullptr && !model->template_source.empty()) return model->template_source;
  return DefaultChatTemplate(model != nullptr ? model->architecture : std::string_view());
}

Value MessagesContext(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                      const ModelChatInfo* model) {
  ValueList list;
  list.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    auto d = std::make_shared<Dict>();
    d->Set(Value::String("role"), Value::String(m.role));
    d->Set(Value::String("content"), Value::String(m.content));
    list.push_back(Value::FromDict(std::move(d)));
  }
  auto ctx = std::make_shared<Dict>();
  ctx->Set(Value::String("messages"), Value::List(std::move(list)));
  ctx->Set(Value::String("add_generation_prompt"), Value::Bool(add_generation_prompt));
  ctx->Set(Value::String("bos_token"), Value::String(model ? model->bos_token : ""));
  ctx->Set(Value::String("eos_token"), Value::String(model ? model->eos_token : ""));
  return Value::FromDict(std::move(ctx));
}

Value WithSpecialTokens(const Value& context, const ModelChatInfo* model) {
  if (model == nullptr || !context.is_dict()) return context;
  auto ctx = std::make_shared<Dict>(context.dict());
  if (ctx->FindString("bos_token") == nullptr) ctx->Set(Value::String("bos_token"), Value::String(model->bos_token));
  if (ctx->FindString("eos_token") == nullptr) ctx->Set(Value::String("eos_token"), Value::String(model->eos_token));
  return Value::FromDict(std::move(ctx));
}

absl::StatusOr<std::string> RenderChatTemplate(std::string_view source, const Value& context,
                                               const RenderLimits& limits) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<ChatTemplate> t, ChatTemplate::Parse(source));
  return t->Render(context, limits);
}

}  // namespace ember::chat
