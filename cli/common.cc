#include "cli/common.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "cli/flags.h"

namespace ember::cli {

int ReportError(const char* command, const std::string& what, ember_status status) {
  std::fprintf(stderr, "ember %s: %s: %s (%s)\n", command, what.c_str(), ember_last_error(),
               ember_status_name(status));
  return 1;
}

int UsageError(const char* command, const std::string& message) {
  std::fprintf(stderr, "ember %s: %s\n", command, message.c_str());
  return 2;
}

ModelPtr LoadModelFromFlags(const char* command) {
  const std::string path = absl::GetFlag(FLAGS_m);
  if (path.empty()) {
    UsageError(command, "-m MODEL is required");
    return nullptr;
  }
  return LoadModel(command, path);
}

ModelPtr LoadModel(const char* command, const std::string& path) {
  ember_model_options* options = nullptr;
  ember_status st = ember_model_options_create(&options);
  if (st != EMBER_OK) {
    ReportError(command, "options", st);
    return nullptr;
  }
  const std::string weights = absl::GetFlag(FLAGS_weights);
  int32_t format = EMBER_WEIGHTS_AS_STORED;
  if (weights == "q8_0") format = EMBER_WEIGHTS_Q8_0;
  else if (weights == "q4_0") format = EMBER_WEIGHTS_Q4_0;
  else if (!weights.empty()) {
    ember_model_options_free(options);
    UsageError(command, "--weights must be q8_0 or q4_0");
    return nullptr;
  }
  st = ember_model_options_set_weight_format(options, format);
  ember_model* model = nullptr;
  if (st == EMBER_OK) st = ember_model_load(path.c_str(), options, &model);
  ember_model_options_free(options);
  if (st != EMBER_OK) {
    ReportError(command, "cannot load " + path, st);
    return nullptr;
  }
  return ModelPtr(model);
}

SamplerOptionsPtr SamplerOptionsFromFlags(const char* command) {
  ember_sampler_options* raw = nullptr;
  ember_status st = ember_sampler_options_create(&raw);
  SamplerOptionsPtr sampler(raw);
  if (st == EMBER_OK) st = ember_sampler_options_set_temperature(raw, absl::GetFlag(FLAGS_temp));
  if (st == EMBER_OK) st = ember_sampler_options_set_top_k(raw, absl::GetFlag(FLAGS_top_k));
  if (st == EMBER_OK) st = ember_sampler_options_set_top_p(raw, absl::GetFlag(FLAGS_top_p));
  if (st == EMBER_OK) st = ember_sampler_options_set_min_p(raw, absl::GetFlag(FLAGS_min_p));
  if (st == EMBER_OK) {
    st = ember_sampler_options_set_repeat_penalty(raw, absl::GetFlag(FLAGS_repeat_penalty),
                                                  absl::GetFlag(FLAGS_repeat_last_n));
  }
  if (st == EMBER_OK) st = ember_sampler_options_set_seed(raw, absl::GetFlag(FLAGS_seed));
  if (st != EMBER_OK) {
    ReportError(command, "bad sampler option", st);
    return nullptr;
  }
  return sampler;
}

SessionPtr CreateSessionFromFlags(const char* command, ember_model* model, const ember_sampler_options* sampler) {
  ember_session_options* options = nullptr;
  ember_status st = ember_session_options_create(&options);
  if (st == EMBER_OK && absl::GetFlag(FLAGS_c) > 0) st = ember_session_options_set_n_ctx(options, absl::GetFlag(FLAGS_c));
  if (st == EMBER_OK && absl::GetFlag(FLAGS_t) > 0) {
    st = ember_session_options_set_n_threads(options, absl::GetFlag(FLAGS_t));
  }
  if (st == EMBER_OK && sampler != nullptr) st = ember_session_options_set_sampler(options, sampler);
  ember_session* session = nullptr;
  if (st == EMBER_OK) st = ember_session_create(model, options, &session);
  ember_session_options_free(options);
  if (st != EMBER_OK) {
    ReportError(command, "cannot create a session", st);
    return nullptr;
  }
  return SessionPtr(session);
}

bool Tokenize(const char* command, ember_model* model, const std::string& text, uint32_t flags,
              std::vector<int32_t>* ids) {
  size_t n = 0;
  ember_status st = ember_tokenize(model, text.data(), text.size(), flags, nullptr, 0, &n);
  if (st == EMBER_ERR_BUFFER_TOO_SMALL || (st == EMBER_OK && n > 0)) {
    ids->resize(n);
    st = ember_tokenize(model, text.data(), text.size(), flags, ids->data(), ids->size(), &n);
  }
  if (st != EMBER_OK) {
    ReportError(command, "cannot tokenize", st);
    return false;
  }
  ids->resize(n);
  return true;
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

}  // namespace ember::cli
