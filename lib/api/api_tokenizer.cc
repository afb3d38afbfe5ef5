// Tokenizing and detokenizing through the C API (size-reporting buffers).
#include <cstring>
#include <string>
#include <vector>

#include "lib/api/handles.h"
#include "lib/api/status_map.h"

using ember::api::Fail;
using ember::api::Guard;
using ember::api::Report;

namespace ember::api {

// Resolves the BOS flags against the model default. False if the flags conflict.
bool ResolveEncodeOptions(const ember_model* model, uint32_t flags, ember::EncodeOptions* options) {
  const bool add = flags & EMBER_TOKENIZE_ADD_BOS;
  const bool no = flags & EMBER_TOKENIZE_NO_BOS;
  if (add && no) return false;
  options->add_bos = add ? true : (no ? false : model->model->tokenizer().add_bos_by_default());
  options->parse_special = (flags & EMBER_TOKENIZE_PARSE_SPECIAL) != 0;
  return true;
}

}  // namespace ember::api

extern "C" {

ember_status ember_tokenize(const ember_model* model, const char* text, size_t text_len, uint32_t flags,
                            int32_t* tokens, size_t capacity, size_t* n_tokens) {
  return Guard("ember_tokenize", [&]() -> ember_status {
    if (model == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_tokenize: model is NULL");
    if (n_tokens == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_tokenize: n_tokens is NULL");
    if (text == nullptr && text_len > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_tokenize: text is NULL");
    if (tokens == nullptr && capacity > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_tokenize: tokens is NULL");
    if (flags & ~uint32_t{7}) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_tokenize: unknown flags");
    ember::EncodeOptions options;
    if (!ember::api::ResolveEncodeOptions(model, flags, &options)) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_tokenize: ADD_BOS and NO_BOS both set");
    }
    std::vector<int32_t> ids;
    absl::Status st = model->model->tokenizer().Encode(std::string_view(text ? text : "", text_len), options, &ids);
    if (!st.ok()) return Report(st);
    *n_tokens = ids.size();
    if (ids.size() > capacity) {
      return Fail(EMBER_ERR_BUFFER_TOO_SMALL, "ember_tokenize: " + std::to_string(ids.size()) +
                                                  " tokens needed, capacity " + std::to_string(capacity));
    }
    if (!ids.empty()) std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
    return EMBER_OK;
  });
}

ember_status ember_detokenize(const ember_model* model, const int32_t* tokens, size_t n_tokens, uint32_t flags,
                              char* text, size_t capacity, size_t* text_len) {
  return Guard("ember_detokenize", [&]() -> ember_status {
    if (model == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_detokenize: model is NULL");
    if (text_len == nullptr) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_detokenize: text_len is NULL");
    if (tokens == nullptr && n_tokens > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_detokenize: tokens is NULL");
    if (text == nullptr && capacity > 0) return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_detokenize: text is NULL");
    if (flags & ~uint32_t{EMBER_DETOKENIZE_SKIP_SPECIAL}) {
      return Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_detokenize: unknown flags");
    }
    const bool skip_special = flags & EMBER_DETOKENIZE_SKIP_SPECIAL;
    std::string out, piece;
    for (size_t i = 0; i < n_tokens; ++i) {
      absl::Status st = model->model->TokenText(tokens[i], skip_special, &piece);
      if (!st.ok()) return Report(st);
      out += piece;
    }
    *text_len = out.size();
    if (out.size() > capacity) {
      return Fail(EMBER_ERR_BUFFER_TOO_SMALL, "ember_detokenize: " + std::to_string(out.size()) +
                                                  " bytes needed, capacity " + std::to_string(capacity));
    }
    if (!out.empty()) std::memcpy(text, out.data(), out.size());
    return EMBER_OK;
  });
}

}  // extern "C"
