// Loading, freeing and describing models.
#include <new>
#include <string>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"
#include "lib/base/log.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace ember::api {

void ReleaseModel(ember_model* model) {
  if (model != nullptr && model->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete model;
}

}  // namespace ember::api

extern "C" {

ember_status ember_model_load(const char* path, const ember_model_options* options, ember_model** out) {
  return Guard("ember_model_load", [&]() -> ember_status {
    if (out == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_model_load: out is NULL");
    *out = nullptr;
    if (path == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_model_load: path is NULL");
    ember::ModelLoadOptions load = options != nullptr ? options->load : ember::ModelLoadOptions{};
    auto model = ember::Model::Load(path, load);
    if (!model.ok()) return Report(model.status());
    auto* handle = new ember_model();
    handle->model = std::move(model).value();
    const ember::ModelConfig& c = handle->model->config();
    ember::Log(&load.log, ember::LogLevel::kInfo,
               std::string("loaded ") + path + ": " + c.arch_name + ", " + std::to_string(c.n_layer) + " layers, " +
                   "hidden " + std::to_string(c.n_embd) + ", vocab " + std::to_string(c.n_vocab));
    *out = handle;
    return EMBER_OK;
  });
}

void ember_model_free(ember_model* model) {
  if (model == nullptr) return;
  if (model->freed_by_host.exchange(true)) return;  // double free by the host: ignore
  if (model->refs.load(std::memory_order_acquire) > 1) {
    ember::Log(&model->model->log(), ember::LogLevel::kWarn,
               "ember_model_free: the model still has sessions; it is released with the last one");
  }
  ember::api::ReleaseModel(model);
}

int32_t ember_model_n_vocab(const ember_model* m) { return m ? m->model->config().n_vocab : 0; }
int32_t ember_model_n_tokens(const ember_model* m) { return m ? m->model->tokenizer().n_tokens() : 0; }
int32_t ember_model_n_ctx_train(const ember_model* m) { return m ? m->model->config().n_ctx_train : 0; }
int32_t ember_model_token_bos(const ember_model* m) { return m ? m->model->tokenizer().bos() : -1; }
int32_t ember_model_token_eos(const ember_model* m) { return m ? m->model->tokenizer().eos() : -1; }
const char* ember_model_architecture(const ember_model* m) {
  return m ? m->model->config().arch_name.c_str() : "";
}
int32_t ember_model_token_is_eog(const ember_model* m, int32_t token) {
  return m && m->model->IsEndOfGeneration(token) ? 1 : 0;
}
int32_t ember_model_adds_bos(const ember_model* m) {
  return m && m->model->tokenizer().add_bos_by_default() ? 1 : 0;
}

}  // extern "C"
