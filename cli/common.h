// Shared plumbing of the CLI subcommands: owning wrappers for C handles and loaders.
#ifndef EMBER_CLI_COMMON_H_
#define EMBER_CLI_COMMON_H_

#include <memory>
#include <string>
#include <vector>

#include "ember/ember.h"

namespace ember::cli {

struct ModelDeleter { void operator()(ember_model* m) const { ember_model_free(m); } };
struct SessionDeleter { void operator()(ember_session* s) const { ember_session_free(s); } };
using ModelPtr = std::unique_ptr<ember_model, ModelDeleter>;
using SessionPtr = std::unique_ptr<ember_session, SessionDeleter>;
struct SamplerOptionsDeleter {
  void operator()(ember_sampler_options* o) const { ember_sampler_options_free(o); }
};
using SamplerOptionsPtr = std::unique_ptr<ember_sampler_options, SamplerOptionsDeleter>;
struct GenerateOptionsDeleter {
  void operator()(ember_generate_options* o) const { ember_generate_options_free(o); }
};
using GenerateOptionsPtr = std::unique_ptr<ember_generate_options, GenerateOptionsDeleter>;

// Prints "ember <cmd>: <what>: <ember_last_error()>" to stderr and returns 1.
int ReportError(const char* command, const std::string& what, ember_status status);
// Prints "ember <cmd>: <message>" to stderr and returns 2 (usage error).
int UsageError(const char* command, const std::string& message);

// Loads -m with --weights; nullptr after printing the error.
ModelPtr LoadModelFromFlags(const char* command);
// The model at `path`, with --weights; null after reporting an error.
ModelPtr LoadModel(const char* command, const std::string& path);
// Sampler options from --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n
// --seed; nullptr after printing the error.
SamplerOptionsPtr SamplerOptionsFromFlags(const char* command);
// A session with -c / -t and the given sampler (may be NULL); nullptr after printing.
SessionPtr CreateSessionFromFlags(const char* command, ember_model* model, const ember_sampler_options* sampler);
// Tokenizes with ember_tokenize; false after printing.
bool Tokenize(const char* command, ember_model* model, const std::string& text, uint32_t flags,
              std::vector<int32_t>* ids);

// The whole file at `path` as bytes; false if it cannot be opened or read.
bool ReadWholeFile(const std::string& path, std::string* out);

int RunGenerate();
int RunTokenize();
int RunEval();
int RunTemplate();
int RunChat();

}  // namespace ember::cli

#endif  // EMBER_CLI_COMMON_H_
