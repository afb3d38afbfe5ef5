// Soak test (not run in CI): generates many tokens with one model across session resets and
// session re-creation, and checks that the process's memory stays flat. It prints the
// resident set size (VmRSS) and its peak (VmHWM) every 100k tokens and at the end.
//
//   soak [--tokens N] [--reset-every N] [--recreate-every N] [--threads N] [--model PATH]
//
// Defaults: 1,000,000 tokens with the bundled stories260K, a reset every 400 tokens (or
// when the context is full), a fresh session every 50 resets, 1 thread. Exit status 1 if
// the RSS grew by more than --max-growth-kb (default 2048) between the first report
// (after warm-up) and the end.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "ember/ember.h"

namespace {

struct Options {
  int64_t tokens = 1000000;
  int32_t reset_every = 400;
  int32_t recreate_every = 50;  // resets per session
  int32_t threads = 1;
  int64_t max_growth_kb = 2048;
  std::string model = EMBER_SOAK_DEFAULT_MODEL;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const char* flag = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (!std::strcmp(flag, "--tokens")) {
      o->tokens = std::atoll(value);
    } else if (!std::strcmp(flag, "--reset-every")) {
      o->reset_every = std::atoi(value);
    } else if (!std::strcmp(flag, "--recreate-every")) {
      o->recreate_every = std::atoi(value);
    } else if (!std::strcmp(flag, "--threads")) {
      o->threads = std::atoi(value);
    } else if (!std::strcmp(flag, "--max-growth-kb")) {
      o->max_growth_kb = std::atoll(value);
    } else if (!std::strcmp(flag, "--model")) {
      o->model = value;
    } else {
      return false;
    }
  }
  return o->tokens > 0 && o->reset_every > 0 && o->recreate_every > 0 && o->threads > 0;
}

// A "VmRSS:"-style field of /proc/self/status, in kB (0 if missing).
int64_t StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == field) {
      int64_t kb = 0;
      in >> kb;
      return kb;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

ember_session* NewSession(ember_model* model, const Options& o, uint64_t seed) {
  ember_sampler_options* so = nullptr;
  ember_session_options* opts = nullptr;
  ember_session* s = nullptr;
  if (ember_sampler_options_create(&so) != EMBER_OK || ember_session_options_create(&opts) != EMBER_OK ||
      ember_sampler_options_set_temperature(so, 0.9f) != EMBER_OK ||
      ember_sampler_options_set_top_p(so, 0.95f) != EMBER_OK ||
      ember_sampler_options_set_seed(so, seed) != EMBER_OK ||
      ember_session_options_set_sampler(opts, so) != EMBER_OK ||
      ember_session_options_set_n_threads(opts, o.threads) != EMBER_OK ||
      ember_session_create(model, opts, &s) != EMBER_OK) {
    std::fprintf(stderr, "soak: cannot create a session: %s\n", ember_last_error());
  }
  ember_session_options_free(opts);
  ember_sampler_options_free(so);
  return s;
}

int32_t Count(void* user, int32_t, const char*, size_t) {
  ++*static_cast<int64_t*>(user);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: soak [--tokens N] [--reset-every N] [--recreate-every N] [--threads N]"
                 " [--max-growth-kb N] [--model PATH]\n");
    return 2;
  }
  ember_model* model = nullptr;
  if (ember_model_load(o.model.c_str(), nullptr, &model) != EMBER_OK) {
    std::fprintf(stderr, "soak: cannot load %s: %s\n", o.model.c_str(), ember_last_error());
    return 1;
  }
  std::printf("soak: %s, %lld tokens, reset every %d tokens, new session every %d resets, %d thread(s)\n",
              o.model.c_str(), static_cast<long long>(o.tokens), o.reset_every, o.recreate_every, o.threads);
  std::printf("%10s %10s %10s %9s %9s\n", "tokens", "rss_kb", "peak_kb", "seconds", "tok/s");

  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const char* prompts[] = {"Once upon a time", "The little dog", "One day, Lily went to the park", ""};
  int64_t generated = 0, next_report = 100000, resets = 0, sessions = 1, context_full = 0;
  int64_t first_rss = 0;
  ember_session* s = NewSession(model, o, 1);
  if (s == nullptr) return 1;
  while (generated < o.tokens) {
    const char* prompt = prompts[resets % 4];
    const int64_t want = std::min<int64_t>(o.reset_every, o.tokens - generated);
    int64_t got = 0;
    const ember_status st =
        ember_session_generate(s, prompt, std::strlen(prompt), EMBER_TOKENIZE_DEFAULT, static_cast<int32_t>(want),
                               EMBER_GENERATE_IGNORE_EOS, Count, &got, nullptr);
    if (st == EMBER_ERR_CONTEXT_FULL) {
      ++context_full;
    } else if (st != EMBER_OK) {
      std::fprintf(stderr, "soak: generate failed after %lld tokens: %s: %s\n", static_cast<long long>(generated),
                   ember_status_name(st), ember_last_error());
      return 1;
    }
    generated += got;
    ++resets;
    if (resets % o.recreate_every == 0) {
      ember_session_free(s);
      s = NewSession(model, o, static_cast<uint64_t>(resets));
      if (s == nullptr) return 1;
      ++sessions;
    } else if (ember_session_reset(s) != EMBER_OK) {
      std::fprintf(stderr, "soak: reset failed: %s\n", ember_last_error());
      return 1;
    }
    if (generated >= next_report || generated >= o.tokens) {
      const int64_t rss = StatusKb("VmRSS:");
      if (first_rss == 0) first_rss = rss;  // after warm-up: every buffer has its size
      std::printf("%10lld %10lld %10lld %9.1f %9.0f\n", static_cast<long long>(generated),
                  static_cast<long long>(rss), static_cast<long long>(StatusKb("VmHWM:")), seconds(),
                  generated / seconds());
      std::fflush(stdout);
      while (next_report <= generated) next_report += 100000;
    }
  }
  ember_session_free(s);
  const int64_t final_rss = StatusKb("VmRSS:");
  const int64_t peak = StatusKb("VmHWM:");
  ember_model_free(model);
  std::printf("soak: %lld tokens in %.1f s (%.0f tok/s), %lld resets, %lld sessions, %lld context-full stops\n",
              static_cast<long long>(generated), seconds(), generated / seconds(), static_cast<long long>(resets),
              static_cast<long long>(sessions), static_cast<long long>(context_full));
  std::printf("soak: RSS first report %lld kB, final %lld kB (growth %lld kB), peak %lld kB\n",
              static_cast<long long>(first_rss), static_cast<long long>(final_rss),
              static_cast<long long>(final_rss - first_rss), static_cast<long long>(peak));
  if (final_rss - first_rss > o.max_growth_kb) {
    std::printf("soak: FAILED: RSS grew by more than %lld kB\n", static_cast<long long>(o.max_growth_kb));
    return 1;
  }
  std::printf("soak: OK: RSS flat within %lld kB\n", static_cast<long long>(o.max_growth_kb));
  return 0;
}
