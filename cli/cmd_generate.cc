// `ember generate`: streams generated text to stdout and prints speed to stderr.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"

namespace ember::cli {
namespace {

constexpr char kCmd[] = "generate";

// Streams each token's text and notes when the first one arrived, which separates prompt
// processing from generation in the speed report.
struct Progress {
  std::chrono::steady_clock::time_point first_token;
  int32_t n_tokens = 0;
};

int32_t PrintToken(void* user_data, int32_t token, const char* text, size_t text_len) {
  auto* progress = static_cast<Progress*>(user_data);
  if (progress->n_tokens++ == 0) progress->first_token = std::chrono::steady_clock::now();
  std::fwrite(text, 1, text_len, stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int RunGenerate() {
  std::string prompt, error;
  uint32_t flags = 0;
  if (!ReadPrompt(&prompt, &error) || !TokenizeFlags(&flags, &error)) return UsageError(kCmd, error);
  const int32_t n_generate = absl::GetFlag(FLAGS_n) < 0 ? 128 : absl::GetFlag(FLAGS_n);

  SamplerOptionsPtr sampler = SamplerOptionsFromFlags(kCmd);
  if (!sampler) return 1;

  ember_generate_options* raw_generate = nullptr;
  ember_status st = ember_generate_options_create(&raw_generate);
  GenerateOptionsPtr generate(raw_generate);
  if (st == EMBER_OK) st = ember_generate_options_set_max_tokens(raw_generate, n_generate);
  if (st == EMBER_OK) st = ember_generate_options_set_ignore_eos(raw_generate, absl::GetFlag(FLAGS_ignore_eos));
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
  const auto t_start = std::chrono::steady_clock::now();

  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  int32_t n_done = 0;
  Progress progress;
  int32_t stop_reason = EMBER_STOP_NONE;
  st = ember_session_generate_ex(session.get(), prompt.data(), prompt.size(), flags, raw_generate, PrintToken,
                                 &progress, &n_done, &stop_reason);
  const auto t_end = std::chrono::steady_clock::now();
  std::printf("\n");
  std::fflush(stdout);
  if (st != EMBER_OK) return ReportError(kCmd, "generation failed", st);
  using Seconds = std::chrono::duration<double>;
  const double load_s = Seconds(t_start - t_load).count();
  // The first token's time covers the prompt (prefill plus one step); the rest is decode.
  const double first_s = n_done > 0 ? Seconds(progress.first_token - t_start).count() : 0.0;
  const double decode_s = n_done > 1 ? Seconds(t_end - progress.first_token).count() : 0.0;
  std::fprintf(stderr,
               "ember generate: load %.3f s, first token %.3f s, %d tokens, decode %.1f tokens/s\n", load_s,
               first_s, n_done, decode_s > 0 ? (n_done - 1) / decode_s : 0.0);
  return 0;
}

}  // namespace ember::cli
