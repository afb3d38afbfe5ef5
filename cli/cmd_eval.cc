// `ember eval`: the verification interface outside checks depend on. Prints ONE JSON
// object: prompt ids, a greedy continuation (argmax, lowest id on ties, no stop at EOS),
// its text, and the top logits at every prompt position. Optionally writes the last
// prompt position's full logits as little-endian float32.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "nlohmann/json.hpp"

namespace ember::cli {
namespace {

constexpr char kCmd[] = "eval";

// The k largest logits as [id, logit], logit descending, lower id first on ties.
nlohmann::json TopLogits(const float* logits, size_t n_vocab, int32_t k) {
  std::vector<int32_t> ids(n_vocab);
  for (size_t i = 0; i < n_vocab; ++i) ids[i] = static_cast<int32_t>(i);
  const size_t keep = std::min(static_cast<size_t>(std::max(k, 0)), n_vocab);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(keep), ids.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < keep; ++i) out.push_back({ids[i], logits[ids[i]]});
  return out;
}

int32_t ArgMaxLowestId(const float* logits, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

}  // namespace

int RunEval() {
  std::string prompt, error;
  uint32_t flags = 0;
  if (!ReadPrompt(&prompt, &error) || !TokenizeFlags(&flags, &error)) return UsageError(kCmd, error);
  const int32_t n_generate = absl::GetFlag(FLAGS_n) < 0 ? 32 : absl::GetFlag(FLAGS_n);
  const int32_t top_k = absl::GetFlag(FLAGS_top);
  if (top_k < 0) return UsageError(kCmd, "--top must be >= 0");

  ModelPtr model = LoadModelFromFlags(kCmd);
  if (!model) return 1;
  std::vector<int32_t> prompt_ids;
  if (!Tokenize(kCmd, model.get(), prompt, flags, &prompt_ids)) return 1;
  if (prompt_ids.empty()) return UsageError(kCmd, "the prompt has no tokens");
  SessionPtr session = CreateSessionFromFlags(kCmd, model.get(), nullptr);
  if (!session) return 1;

  const size_t n_vocab = static_cast<size_t>(ember_model_n_vocab(model.get()));
  std::vector<float> all_logits(prompt_ids.size() * n_vocab);
  ember_status st = ember_session_eval(session.get(), prompt_ids.data(), prompt_ids.size(), all_logits.data(),
                                       all_logits.size());
  if (st != EMBER_OK) return ReportError(kCmd, "cannot evaluate the prompt", st);

  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < prompt_ids.size(); ++i) top.push_back(TopLogits(&all_logits[i * n_vocab], n_vocab, top_k));

  const std::string logits_out = absl::GetFlag(FLAGS_logits_out);
  if (!logits_out.empty()) {
    std::ofstream out(logits_out, std::ios::binary | std::ios::trunc);
    // x86-64 is little-endian, which is the file format.
    out.write(reinterpret_cast<const char*>(&all_logits[(prompt_ids.size() - 1) * n_vocab]),
              static_cast<std::streamsize>(n_vocab * sizeof(float)));
    if (!out) return UsageError(kCmd, "cannot write " + logits_out);
  }

  std::vector<int32_t> generated;
  const float* logits = &all_logits[(prompt_ids.size() - 1) * n_vocab];
  size_t n_logits = n_vocab;
  for (int32_t i = 0; i < n_generate; ++i) {
    const int32_t next = ArgMaxLowestId(logits, n_logits);
    generated.push_back(next);
    if (i + 1 == n_generate) break;
    st = ember_session_eval(session.get(), &next, 1, nullptr, 0);
    if (st != EMBER_OK) return ReportError(kCmd, "cannot evaluate a generated token", st);
    st = ember_session_logits(session.get(), &logits, &n_logits);
    if (st != EMBER_OK) return ReportError(kCmd, "no logits", st);
  }

  std::string text;
  size_t text_len = 0;
  st = ember_detokenize(model.get(), generated.data(), generated.size(), EMBER_DETOKENIZE_DEFAULT, nullptr, 0, &text_len);
  if (st == EMBER_ERR_BUFFER_TOO_SMALL || st == EMBER_OK) {
    text.resize(text_len);
    st = ember_detokenize(model.get(), generated.data(), generated.size(), EMBER_DETOKENIZE_DEFAULT, text.data(),
                          text.size(), &text_len);
  }
  if (st != EMBER_OK) return ReportError(kCmd, "cannot detokenize", st);

  nlohmann::json result = {{"prompt_ids", prompt_ids},
                           {"generated_ids", generated},
                           {"generated_text", text},
                           {"top", top}};
  // Invalid UTF-8 (ids that split a character) is written as U+FFFD.
  const std::string json = result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace ember::cli
