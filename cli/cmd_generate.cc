// `ember generate`: streams generated text to stdout and prints speed to stderr.
#include <chrono>
#include <cstdio>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"

namespace ember::cli {
namespace {

constexpr char kCmd[] = "generate";

int32_t PrintToken(void* user_data, int32_t token, const char* text, size_t text_len) {
  std::fwrite(text, 1, text_len, stdout);
  std::fflush(stdout);
  return 0;
}

struct SamplerDeleter { void operator()(ember_sampler_options* o) const { ember_sampler_options_free(o); } };

}  // namespace

int RunGenerate() {
  std::string prompt, error;
  uint32_t flags = 0;
  if (!ReadPrompt(&prompt, &error) || !TokenizeFlags(&flags, &error)) return UsageError(kCmd, error);
  const int32_t n_generate = absl::GetFlag(FLAGS_n) < 0 ? 128 : absl::GetFlag(FLAGS_n);

  ember_sampler_options* raw = nullptr;
  ember_status st = ember_sampler_options_create(&raw);
  std::unique_ptr<ember_sampler_options, SamplerDeleter> sampler(raw);
  if (st == EMBER_OK) st = ember_sampler_options_set_temperature(raw, absl::GetFlag(FLAGS_temp));
  if (st == EMBER_OK) st = ember_sampler_options_set_top_k(raw, absl::GetFlag(FLAGS_top_k));
  if (st == EMBER_OK) st = ember_sampler_options_set_top_p(raw, absl::GetFlag(FLAGS_top_p));
  if (st == EMBER_OK) st = ember_sampler_options_set_min_p(raw, absl::GetFlag(FLAGS_min_p));
  if (st == EMBER_OK) {
    st = ember_sampler_options_set_repeat_penalty(raw, absl::GetFlag(FLAGS_repeat_penalty),
                                                  absl::GetFlag(FLAGS_repeat_last_n));
  }
  if (st == EMBER_OK) st = ember_sampler_options_set_seed(raw, absl::GetFlag(FLAGS_seed));
  if (st != EMBER_OK) return ReportError(kCmd, "bad sampler option", st);

  const auto t_load = std::chrono::steady_clock::now();
  ModelPtr model = LoadModelFromFlags(kCmd);
  if (!model) return 1;
  SessionPtr session = CreateSessionFromFlags(kCmd, model.get(), raw);
  if (!session) return 1;
  const auto t_start = std::chrono::steady_clock::now();

  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  int32_t n_done = 0;
  st = ember_session_generate(session.get(), prompt.data(), prompt.size(), flags, n_generate,
                              absl::GetFlag(FLAGS_ignore_eos) ? EMBER_GENERATE_IGNORE_EOS : EMBER_GENERATE_DEFAULT,
                              PrintToken, nullptr, &n_done);
  const auto t_end = std::chrono::steady_clock::now();
  std::printf("\n");
  if (st != EMBER_OK) return ReportError(kCmd, "generation failed", st);
  const double load_s = std::chrono::duration<double>(t_start - t_load).count();
  const double gen_s = std::chrono::duration<double>(t_end - t_start).count();
  std::fprintf(stderr, "ember generate: load %.3f s; %d tokens in %.3f s (prompt included): %.1f tokens/s\n",
               load_s, n_done, gen_s, gen_s > 0 ? n_done / gen_s : 0.0);
  return 0;
}

}  // namespace ember::cli
