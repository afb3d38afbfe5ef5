// `ember generate`: streams generated text to stdout and prints speed to stderr; with
// `--output json`, prints only one JSON object once generation ends:
//   {"text": ..., "stop_reason": ..., "prompt_tokens": N, "completion_tokens": N}
// (text = the generated text without the prompt). --grammar / --json-schema / --json-object
// constrain the output (ember_sampler_options_set_grammar).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "nlohmann/json.hpp"

namespace ember::cli {
namespace {

constexpr char kCmd[] = "generate";

// Streams each token's text and notes when the first one arrived, which separates prompt
// processing from generation in the speed report.
struct Progress {
  std::chrono::steady_clock::time_point first_token;
  int32_t n_tokens = 0;
  bool stream = true;  // print each piece as it comes; otherwise collect it in `text`
  std::string text;
};

int32_t PrintToken(void* user_data, int32_t token, const char* text, size_t text_len) {
  auto* progress = static_cast<Progress*>(user_data);
  if (progress->n_tokens++ == 0) progress->first_token = std::chrono::steady_clock::now();
  if (!progress->stream) {
    progress->text.append(text, text_len);
    return 0;
  }
  std::fwrite(text, 1, text_len, stdout);
  std::fflush(stdout);
  return 0;
}

// The --output json spelling of an EMBER_STOP_* value.
const char* StopReasonName(int32_t reason) {
  switch (reason) {
    case EMBER_STOP_EOS: return "eos";
    case EMBER_STOP_STRING: return "stop";
    case EMBER_STOP_TOKEN: return "stop";
    case EMBER_STOP_MAX_TOKENS: return "length";
    case EMBER_STOP_GRAMMAR: return "grammar";
    case EMBER_STOP_CALLBACK: return "callback";
    case EMBER_STOP_CANCELLED: return "cancelled";
    case EMBER_STOP_CONTEXT_FULL: return "context_full";
    default: return "none";
  }
}

// The grammar flags into `sampler`: at most one of --grammar, --json-schema, --json-object.
// Returns 0, or the exit code after reporting the problem.
int SetGrammarFromFlags(const char* cmd, ember_sampler_options* sampler) {
  const std::string grammar_file = absl::GetFlag(FLAGS_grammar);
  const std::string schema_file = absl::GetFlag(FLAGS_json_schema);
  const bool json_object = absl::GetFlag(FLAGS_json_object);
  const int n_given = (!grammar_file.empty()) + (!schema_file.empty()) + json_object;
  if (n_given == 0) return 0;
  if (n_given > 1) return UsageError(cmd, "give at most one of --grammar, --json-schema, --json-object");
  int32_t kind = EMBER_GRAMMAR_JSON_OBJECT;
  std::string text;
  if (!json_object) {
    kind = grammar_file.empty() ? EMBER_GRAMMAR_JSON_SCHEMA : EMBER_GRAMMAR_GBNF;
    const std::string& file = grammar_file.empty() ? schema_file : grammar_file;
    if (!ReadWholeFile(file, &text)) {
      std::fprintf(stderr, "ember %s: cannot read %s\n", cmd, file.c_str());
      return 1;
    }
  }
  const ember_status st = ember_sampler_options_set_grammar(sampler, kind, text.data(), text.size());
  if (st != EMBER_OK) return ReportError(cmd, "bad grammar", st);
  return 0;
}

}  // namespace

int RunGenerate() {
  std::string prompt, error;
  uint32_t flags = 0;
  if (!ReadPrompt(&prompt, &error) || !TokenizeFlags(&flags, &error)) return UsageError(kCmd, error);
  const int32_t n_generate = absl::GetFlag(FLAGS_n) < 0 ? 128 : absl::GetFlag(FLAGS_n);
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output != "text" && output != "json") return UsageError(kCmd, "--output must be text or json");
  const bool json_output = output == "json";

  SamplerOptionsPtr sampler = SamplerOptionsFromFlags(kCmd);
  if (!sampler) return 1;
  if (const int rc = SetGrammarFromFlags(kCmd, sampler.get()); rc != 0) return rc;

  ember_generate_options* raw_generate = nullptr;
  ember_status st = ember_generate_options_create(&raw_generate);
  GenerateOptionsPtr generate(raw_generate);
  if (st == EMBER_OK) st = ember_generate_options_set_max_tokens(raw_generate, n_generate);
  if (st == EMBER_OK) st = ember_generate_options_set_ignore_eos(raw_generate, absl::GetFlag(FLAGS_ignore_eos));
  if (st == EMBER_OK) st = ember_generate_options_set_lookup(raw_generate, absl::GetFlag(FLAGS_lookup));
  if (st == EMBER_OK) {
    std::vector<const char*> stops;
    for (const std::string& stop : StopStrings()) stops.push_back(stop.c_str());
    st = ember_generate_options_set_stop_strings(raw_generate, stops.data(), stops.size());
  }
  if (st != EMBER_OK) return ReportError(kCmd, "bad generation option", st);

  const auto t_load = std::chrono::steady_clock::now();
  ModelPtr model = LoadModelFromFlags(kCmd);
  if (!model) return 1;
  SessionPtr session = CreateSessionFromFlags(kCmd, model.get(), sampler.get());
  if (!session) return 1;
  ModelPtr draft_model;
  SessionPtr draft;
  if (const std::string draft_path = absl::GetFlag(FLAGS_draft); !draft_path.empty()) {
    draft_model = LoadModel(kCmd, draft_path);
    if (!draft_model) return 1;
    draft = CreateSessionFromFlags(kCmd, draft_model.get(), nullptr);
    if (!draft) return 1;
    st = ember_generate_options_set_draft(raw_generate, draft.get(), absl::GetFlag(FLAGS_draft_n));
    if (st != EMBER_OK) return ReportError(kCmd, "bad draft option", st);
  }
  const auto t_start = std::chrono::steady_clock::now();

  if (!json_output) std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  int32_t n_done = 0;
  Progress progress;
  progress.stream = !json_output;
  int32_t stop_reason = EMBER_STOP_NONE;
  st = ember_session_generate_ex(session.get(), prompt.data(), prompt.size(), flags, raw_generate, PrintToken,
                                 &progress, &n_done, &stop_reason);
  const auto t_end = std::chrono::steady_clock::now();
  // A full context ends generation like a token limit: what was generated is the answer.
  const bool finished = st == EMBER_OK || st == EMBER_ERR_CONTEXT_FULL;
  if (json_output && finished) {
    nlohmann::ordered_json out;
    out["text"] = progress.text;
    out["stop_reason"] = StopReasonName(stop_reason);
    // The session started empty, so what it holds beyond the generated tokens is the prompt.
    out["prompt_tokens"] = ember_session_n_past(session.get()) - n_done;
    out["completion_tokens"] = n_done;
    const std::string line = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  } else if (!json_output) {
    std::printf("\n");
  }
  std::fflush(stdout);
  if (st != EMBER_OK && !(json_output && finished)) return ReportError(kCmd, "generation failed", st);
  using Seconds = std::chrono::duration<double>;
  const double load_s = Seconds(t_start - t_load).count();
  // The first token's time covers the prompt (prefill plus one step); the rest is decode.
  const double first_s = n_done > 0 ? Seconds(progress.first_token - t_start).count() : 0.0;
  const double decode_s = n_done > 1 ? Seconds(t_end - progress.first_token).count() : 0.0;
  std::fprintf(stderr,
               "ember generate: load %.3f s, first token %.3f s, %d tokens, decode %.1f tokens/s\n", load_s,
               first_s, n_done, decode_s > 0 ? (n_done - 1) / decode_s : 0.0);
  if (absl::GetFlag(FLAGS_lookup) > 0 || draft) {
    int32_t drafted = 0, accepted = 0;
    if (ember_session_speculation_stats(session.get(), &drafted, &accepted) == EMBER_OK) {
      std::fprintf(stderr, "ember generate: %s drafted %d tokens, accepted %d (%.0f%%)\n",
                   draft ? "draft model" : "lookup", drafted, accepted, drafted > 0 ? 100.0 * accepted / drafted : 0.0);
    }
  }
  return 0;
}

}  // namespace ember::cli
