// `ember bench`: end-to-end throughput in the manner of llama-bench. pp<P> evaluates a P-token
// prompt in one call on an empty session; tg<N> evaluates N single tokens after one warm-up
// token. Each test runs -r times; tokens/s is reported as mean and sample stddev.
//
// Every figure is put next to its roofline: decode reads every weight matrix once per token,
// so tg is bounded by read bandwidth / weight bytes; prefill is bounded by the int8 VNNI
// peak against 2 x (matrix parameters) operations per token (attention's own FLOPs are not
// counted, as in the perf baseline).
//
// --sessions 1,4,8 adds batched decode: tg<N> with S > 1 sessions feeds each of S sessions a
// token per step, all S in one forward pass (ember_session_eval_batch), and reports the
// aggregate rate S x N / time. Its roofline is S x the one-session one: a step still reads
// the weights once.
//
// --lookup N (1..7) adds speculative decoding by prompt lookup: for each thread count, two
// greedy generations of N_gen tokens after a prompt that repeats one sentence, one plain
// ("gen<N>") and one with up to N draft tokens a step ("gen<N>+lookup<N>"), through the
// same Generator, so their ratio is the end-to-end speed-up (the output is identical by
// construction). Their objects carry "lookup": 0 or N; the report adds drafted/accepted.
// Their roofline is the one-token decode roofline: lookup can pass it.
//
// --json prints exactly one JSON array on stdout, one object per test:
//   {"test": "pp512", "threads": 2, "tokens_per_second": X, "stddev": Y}
// and the human-readable report (rooflines, load time, memory) on stderr. When --sessions
// asks for more than one session, every object also carries "sessions": S (1 for prefill
// and one-session decode), and the table a sessions column; with one session (or no
// --sessions) the output is exactly as without the flag.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "cli/int8_peak.h"
#include "cli/mem_bandwidth.h"
#include "kernels/dispatch.h"
#include "lib/base/errors.h"
#include "lib/model/model.h"
#include "lib/model/weights.h"
#include "lib/runtime/batch_eval.h"
#include "lib/runtime/generator.h"
#include "lib/runtime/session.h"
#include "nlohmann/json.hpp"

namespace ember::cli {
namespace {

constexpr char kCmd[] = "bench";
// The bandwidth probe reads 1 GiB; EMBER_BENCH_BANDWIDTH_MIB overrides it (tests use a
// small buffer to stay fast).
size_t BandwidthBufferBytes() {
  const char* env = std::getenv("EMBER_BENCH_BANDWIDTH_MIB");
  int mib = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &mib) && mib > 0) return static_cast<size_t>(mib) << 20;
  return size_t{1} << 30;
}

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool ParseIntList(const std::string& text, int32_t min_value, std::vector<int32_t>* out) {
  out->clear();
  for (absl::string_view piece : absl::StrSplit(text, ',')) {
    int32_t v = 0;
    if (!absl::SimpleAtoi(piece, &v) || v < min_value) return false;
    out->push_back(v);
  }
  return !out->empty();
}

// What one decode step must stream: every weight matrix except the token embedding table,
// of which only one row per token is read.
struct WeightTraffic {
  double bytes = 0;   // per token
  double params = 0;  // matrix parameters multiplied per token
};

WeightTraffic MeasureWeights(const ModelWeights& w) {
  WeightTraffic t;
  auto add = [&](const WeightMatrix& m) {
    t.bytes += static_cast<double>(m.rows) * static_cast<double>(m.row_bytes);
    t.params += static_cast<double>(m.rows) * static_cast<double>(m.cols);
  };
  for (const LayerWeights& l : w.layers) {
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) add(*m);
  }
  add(w.output);
  return t;
}

uint64_t PathBytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return std::filesystem::file_size(path, ec);
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

struct TestResult {
  std::string name;
  int32_t threads = 0;
  bool prefill = false;
  double mean = 0, stddev = 0;
  int32_t sessions = 1;
  int32_t lookup = -1;  // gen tests only: 0 plain, N prompt lookup
  int32_t drafted = 0, accepted = 0;  // summed over the repetitions
};

void MeanStddev(const std::vector<double>& v, double* mean, double* stddev) {
  double sum = 0;
  for (double x : v) sum += x;
  *mean = sum / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - *mean) * (x - *mean);
  *stddev = v.size() > 1 ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0.0;
}

// Deterministic token ids spread over the vocabulary.
std::vector<int32_t> BenchTokens(int32_t n, int32_t n_vocab, uint32_t salt) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  uint64_t x = 0x9E3779B97F4A7C15ull * (salt + 1);
  for (int32_t& id : ids) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<int32_t>((x >> 33) % static_cast<uint64_t>(n_vocab));
  }
  return ids;
}

absl::Status RunPrefill(Session& s, int32_t n_prompt, int32_t reps, int32_t n_vocab, TestResult* r) {
  // Warm-up: pool threads, caches (a short prompt, not a whole repetition).
  std::vector<int32_t> warm = BenchTokens(std::min(n_prompt, 16), n_vocab, 1);
  s.Reset();  // the previous test's tokens may leave no room for the warm-up
  EMBER_RETURN_IF_ERROR(s.Eval(warm, nullptr, nullptr));
  std::vector<double> rates;
  for (int32_t rep = 0; rep < reps; ++rep) {
    s.Reset();
    const std::vector<int32_t> ids = BenchTokens(n_prompt, n_vocab, 100 + rep);
    const Clock::time_point start = Clock::now();
    EMBER_RETURN_IF_ERROR(s.Eval(ids, nullptr, nullptr));
    rates.push_back(n_prompt / SecondsSince(start));
  }
  MeanStddev(rates, &r->mean, &r->stddev);
  return absl::OkStatus();
}

absl::Status RunGeneration(Session& s, int32_t n_gen, int32_t reps, int32_t n_vocab, TestResult* r) {
  std::vector<double> rates;
  for (int32_t rep = 0; rep < reps; ++rep) {
    s.Reset();
    const std::vector<int32_t> ids = BenchTokens(n_gen + 1, n_vocab, 200 + rep);
    EMBER_RETURN_IF_ERROR(s.Eval(absl::MakeConstSpan(ids.data(), 1), nullptr, nullptr));  // warm-up
    const Clock::time_point start = Clock::now();
    for (int32_t i = 1; i <= n_gen; ++i) {
      EMBER_RETURN_IF_ERROR(s.Eval(absl::MakeConstSpan(ids.data() + i, 1), nullptr, nullptr));
    }
    rates.push_back(n_gen / SecondsSince(start));
  }
  MeanStddev(rates, &r->mean, &r->stddev);
  return absl::OkStatus();
}

// tg with `others.size() + 1` sessions decoding in one batched pass per step: `first` (whose
// thread pool the batch runs on) and `others` each get one token per step.
absl::Status RunBatchedGeneration(Session& first, const std::vector<std::unique_ptr<Session>>& others, int32_t n_gen,
                                  int32_t reps, int32_t n_vocab, TestResult* r) {
  std::vector<Session*> sessions = {&first};
  for (const auto& s : others) sessions.push_back(s.get());
  const size_t n = sessions.size();
  std::vector<absl::Status> statuses(n);
  std::vector<std::vector<int32_t>> ids(n);
  std::vector<BatchItem> items(n);
  auto step = [&](int32_t i) -> absl::Status {
    for (size_t j = 0; j < n; ++j) items[j] = {sessions[j], absl::MakeConstSpan(ids[j].data() + i, 1)};
    EMBER_RETURN_IF_ERROR(EvalBatch(items, absl::MakeSpan(statuses)));
    for (const absl::Status& st : statuses) EMBER_RETURN_IF_ERROR(st);
    return absl::OkStatus();
  };
  std::vector<double> rates;
  for (int32_t rep = 0; rep < reps; ++rep) {
    for (size_t j = 0; j < n; ++j) {
      sessions[j]->Reset();
      ids[j] = BenchTokens(n_gen + 1, n_vocab, static_cast<uint32_t>(200 + rep + 1000 * j));
    }
    EMBER_RETURN_IF_ERROR(step(0));  // warm-up
    const Clock::time_point start = Clock::now();
    for (int32_t i = 1; i <= n_gen; ++i) EMBER_RETURN_IF_ERROR(step(i));
    rates.push_back(static_cast<double>(n) * n_gen / SecondsSince(start));
  }
  MeanStddev(rates, &r->mean, &r->stddev);
  return absl::OkStatus();
}

// A prompt whose continuation repeats what it has already said (a random-weight model's
// greedy output does too), as in summarising or editing: where prompt lookup pays.
constexpr char kLookupPrompt[] =
    "The quick brown fox jumps over the lazy dog near the river bank. The quick brown fox jumps over "
    "the lazy dog near the river bank. The quick brown fox jumps over the lazy dog near the river bank. "
    "The quick brown fox jumps over the lazy dog";

// gen<N> (lookup 0) or gen<N>+lookup<L>: greedy generation of n_gen tokens after
// kLookupPrompt.
absl::Status RunLookupGeneration(const Model& model, int32_t threads, int32_t n_gen, int32_t lookup, int32_t reps,
                                 TestResult* r) {
  SessionOptions so;
  so.n_threads = threads;
  so.n_ctx = 256 + n_gen;
  so.sampler.temperature = 0.0f;
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, so));
  GenerateOptions options;
  options.max_tokens = n_gen;
  options.ignore_eos = true;
  options.lookup = lookup;
  EncodeOptions encode;
  encode.add_bos = true;
  std::vector<double> rates;
  for (int32_t rep = 0; rep < reps; ++rep) {
    session->Reset();
    Generator generator(*session, options);
    GenerateResult result;
    // Timed from the first generated token to the last, so the prompt's prefill (the same
    // in both tests) does not dilute the ratio.
    Clock::time_point first;
    int32_t seen = 0;
    EMBER_RETURN_IF_ERROR(generator.Run(kLookupPrompt, encode, [&](int32_t token, std::string_view) {
      if (token >= 0 && seen++ == 0) first = Clock::now();
      return false;
    }, &result));
    rates.push_back(seen > 1 ? (seen - 1) / SecondsSince(first) : 0.0);
    r->drafted += result.n_drafted;
    r->accepted += result.n_accepted;
  }
  MeanStddev(rates, &r->mean, &r->stddev);
  return absl::OkStatus();
}

int Fail(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "ember %s: %s: %s\n", kCmd, what.c_str(), std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int RunBench() {
  const std::string path = absl::GetFlag(FLAGS_m);
  if (path.empty()) return UsageError(kCmd, "-m MODEL is required");
  std::vector<int32_t> prompts, threads;
  const std::string p_text = absl::GetFlag(FLAGS_p).empty() ? "512" : absl::GetFlag(FLAGS_p);
  if (!ParseIntList(p_text, 0, &prompts)) return UsageError(kCmd, "-p takes prompt lengths, e.g. 512 or 128,512");
  const std::string t_text = absl::GetFlag(FLAGS_bench_threads).empty() ? "1" : absl::GetFlag(FLAGS_bench_threads);
  if (!ParseIntList(t_text, 1, &threads)) return UsageError(kCmd, "-t takes thread counts >= 1, e.g. 2 or 1,2");
  std::vector<int32_t> session_counts = {1};
  if (!absl::GetFlag(FLAGS_sessions).empty() && !ParseIntList(absl::GetFlag(FLAGS_sessions), 1, &session_counts)) {
    return UsageError(kCmd, "--sessions takes session counts >= 1, e.g. 1,4,8");
  }
  // Batched runs label every result with its session count; one session keeps today's output.
  const bool batched = std::any_of(session_counts.begin(), session_counts.end(), [](int32_t s) { return s > 1; });
  const int32_t n_gen = absl::GetFlag(FLAGS_n) < 0 ? 128 : absl::GetFlag(FLAGS_n);
  const int32_t lookup = absl::GetFlag(FLAGS_lookup);
  if (lookup < 0 || lookup > kMaxLookup) return UsageError(kCmd, "--lookup takes 1 to 7 draft tokens (0 = off)");
  const int32_t reps = absl::GetFlag(FLAGS_r);
  if (reps < 1) return UsageError(kCmd, "-r must be >= 1");
  const bool json = absl::GetFlag(FLAGS_json);
  prompts.erase(std::remove(prompts.begin(), prompts.end(), 0), prompts.end());

  ModelLoadOptions load_options;
  const std::string weights = absl::GetFlag(FLAGS_weights);
  if (weights == "q8_0") load_options.weight_format = WeightFormat::kQ8_0;
  else if (weights == "q4_0") load_options.weight_format = WeightFormat::kQ4_0;
  else if (!weights.empty()) return UsageError(kCmd, "--weights must be q8_0 or q4_0");

  // Load time: from opening the file to the first token's logits.
  const Clock::time_point load_start = Clock::now();
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(path, load_options);
  if (!model.ok()) return Fail("cannot load " + path, model.status());
  const ModelConfig& config = (*model)->config();
  const int32_t max_prompt = prompts.empty() ? 0 : *std::max_element(prompts.begin(), prompts.end());
  double load_seconds = -1;
  uint64_t kv_bytes = 0;

  std::vector<TestResult> results;
  for (const int32_t t : threads) {
    SessionOptions so;
    so.n_threads = t;
    so.n_ctx = std::max({max_prompt, n_gen + 1, 16}) + 1;
    so.n_batch = 512;  // llama-bench's default micro-batch
    absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(**model, so);
    if (!session.ok()) return Fail("cannot create a session", session.status());
    Session& s = **session;
    if (load_seconds < 0) {
      const int32_t first = 0;
      absl::Status st = s.Eval(absl::MakeConstSpan(&first, 1), nullptr, nullptr);
      if (!st.ok()) return Fail("cannot evaluate the first token", st);
      load_seconds = SecondsSince(load_start);
    }
    for (const int32_t p : prompts) {
      TestResult r{absl::StrCat("pp", p), t, true};
      absl::Status st = RunPrefill(s, p, reps, config.n_vocab, &r);
      if (!st.ok()) return Fail(r.name, st);
      kv_bytes = std::max(kv_bytes, s.kv_bytes());
      results.push_back(r);
    }
    for (const int32_t n_sessions : n_gen > 0 ? session_counts : std::vector<int32_t>{}) {
      TestResult r{absl::StrCat("tg", n_gen), t, false, 0, 0, n_sessions};
      absl::Status st;
      if (n_sessions == 1) {
        st = RunGeneration(s, n_gen, reps, config.n_vocab, &r);
      } else {
        // The batch runs on the first session's pool; the others need no threads of their own.
        SessionOptions other_options = so;
        other_options.n_threads = 1;
        std::vector<std::unique_ptr<Session>> others;
        for (int32_t j = 1; j < n_sessions && st.ok(); ++j) {
          absl::StatusOr<std::unique_ptr<Session>> other = Session::Create(**model, other_options);
          if (!other.ok()) return Fail("cannot create a session", other.status());
          others.push_back(std::move(*other));
        }
        st = RunBatchedGeneration(s, others, n_gen, reps, config.n_vocab, &r);
        for (const auto& other : others) kv_bytes = std::max(kv_bytes, other->kv_bytes());
      }
      if (!st.ok()) return Fail(r.name, st);
      kv_bytes = std::max(kv_bytes, s.kv_bytes());
      results.push_back(r);
    }
    for (const int32_t l : lookup > 0 && n_gen > 0 ? std::vector<int32_t>{0, lookup} : std::vector<int32_t>{}) {
      TestResult r{l == 0 ? absl::StrCat("gen", n_gen) : absl::StrCat("gen", n_gen, "+lookup", l), t, false};
      r.lookup = l;
      absl::Status st = RunLookupGeneration(**model, t, n_gen, l, reps, &r);
      if (!st.ok()) return Fail(r.name, st);
      results.push_back(r);
    }
  }
  // Peak RSS before the bandwidth probe allocates its buffer.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_rss = static_cast<double>(usage.ru_maxrss) * 1024.0;

  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const TestResult& r : results) {
      nlohmann::ordered_json o = {
          {"test", r.name}, {"threads", r.threads}, {"tokens_per_second", r.mean}, {"stddev", r.stddev}};
      if (batched) o["sessions"] = r.sessions;
      if (r.lookup >= 0) o["lookup"] = r.lookup;
      out.push_back(std::move(o));
    }
    std::printf("%s\n", out.dump().c_str());
    std::fflush(stdout);
  }

  // The report: stdout normally, stderr in --json mode.
  FILE* report = json ? stderr : stdout;
  const WeightTraffic traffic = MeasureWeights((*model)->weights());
  const double file_bytes = static_cast<double>(PathBytes(path));
  std::fprintf(report, "model: %s (%s, %d layers, n_embd %d, vocab %d; file %.3f GB)\n", path.c_str(),
               config.arch_name.c_str(), config.n_layer, config.n_embd, config.n_vocab, file_bytes / 1e9);
  std::fprintf(report,
               "weights read per token: %.3f GB (matrices without token_embd); matrix params %.3f G "
               "= %.2f GFLOP per token; kernels: %s%s\n",
               traffic.bytes / 1e9, traffic.params / 1e9, 2 * traffic.params / 1e9,
               std::string(IsaName(ActiveIsa())).c_str(),
               AmxUsable() ? " (prefill batches >= 192 tokens on AMX-BF16 tiles; the roofline stays the "
                             "int8 VNNI peak)"
                           : "");
  std::fprintf(report, "load (open -> first token, %d thread%s): %.2f s\n", threads[0], threads[0] == 1 ? "" : "s",
               load_seconds);
  std::fprintf(report, "peak RSS: %.3f GB vs file %.3f GB + KV %.3f GB = %.3f GB\n", peak_rss / 1e9, file_bytes / 1e9,
               static_cast<double>(kv_bytes) / 1e9, (file_bytes + static_cast<double>(kv_bytes)) / 1e9);
  // Batched runs get a sessions column right after t.
  auto sessions_cell = [&](const TestResult& r) { return batched ? absl::StrCat(r.sessions, " | ") : std::string(); };
  std::fprintf(report, "\n| test | t | %stokens/s | roofline tokens/s | %% of roofline | roofline basis |\n",
               batched ? "sessions | " : "");
  std::fprintf(report, "| --- | --- | %s--- | --- | --- | --- |\n", batched ? "--- | " : "");
  // Both rooflines are measured here, per thread count, after the timed tests: a figure
  // divided by another machine's limits says nothing (the Intel and AMD machines of this
  // kind differ by 2x in bandwidth).
  std::vector<double> bandwidth(threads.size(), -1.0);
  std::vector<Int8Peak> int8_peak(threads.size());
  for (const TestResult& r : results) {
    const std::string figure = absl::StrFormat("%.2f ± %.2f", r.mean, r.stddev);
    const size_t ti = static_cast<size_t>(std::find(threads.begin(), threads.end(), r.threads) - threads.begin());
    if (r.prefill) {
      if (int8_peak[ti].instruction.empty()) int8_peak[ti] = MeasureInt8Peak(r.threads, 5);
      const double peak = int8_peak[ti].ops_per_second;
      const double roof = peak / (2 * traffic.params);
      std::fprintf(report, "| %s | %d | %s%s | %.1f | %.1f%% | int8 %s %.0f GOP/s measured, achieved %.0f GOP/s |\n",
                   r.name.c_str(), r.threads, sessions_cell(r).c_str(), figure.c_str(), roof,
                   roof > 0 ? 100 * r.mean / roof : 0.0, int8_peak[ti].instruction.c_str(), peak / 1e9,
                   r.mean * 2 * traffic.params / 1e9);
      continue;
    }
    if (bandwidth[ti] < 0) bandwidth[ti] = MeasureReadBandwidth(r.threads, BandwidthBufferBytes(), 5);
    // A batched step reads the weights once for all its sessions' tokens.
    const double roof = r.sessions * bandwidth[ti] / traffic.bytes;
    std::fprintf(report, "| %s | %d | %s%s | %.2f | %.1f%% | read %.1f GB/s measured%s |\n", r.name.c_str(),
                 r.threads, sessions_cell(r).c_str(), figure.c_str(), roof, 100 * r.mean / roof,
                 bandwidth[ti] / 1e9,
                 r.lookup > 0 ? absl::StrFormat("; %d drafts, %d confirmed", r.drafted, r.accepted).c_str() : "");
  }
  return 0;
}

}  // namespace ember::cli
