#include "cli/flags.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/flags/flag.h"
#include "ember/ember.h"

ABSL_FLAG(std::string, m, "", "model: a GGUF file or a Hugging Face model directory");
ABSL_FLAG(std::string, p, "", "prompt text");
ABSL_FLAG(std::string, f, "", "file holding the prompt text");
ABSL_FLAG(int32_t, n, -1, "tokens to generate (generate: 128, eval: 32)");
ABSL_FLAG(int32_t, t, 0, "threads (0 = library default)");
ABSL_FLAG(int32_t, c, 0, "context size in tokens (0 = library default)");
ABSL_FLAG(bool, bos, false, "add BOS even if the model does not by default");
ABSL_FLAG(bool, no_bos, false, "never add BOS");
ABSL_FLAG(bool, parse_special, false, "text that spells a control token becomes that token");
ABSL_FLAG(int32_t, top, 20, "eval: logits listed per prompt position");
ABSL_FLAG(std::string, logits_out, "", "eval: write the last prompt position's logits (float32 LE) here");
ABSL_FLAG(float, temp, 0.8f, "generate: sampling temperature (0 = greedy)");
ABSL_FLAG(int32_t, top_k, 40, "generate: top-k (0 = off)");
ABSL_FLAG(float, top_p, 0.95f, "generate: top-p (1 = off)");
ABSL_FLAG(float, min_p, 0.05f, "generate: min-p (0 = off)");
ABSL_FLAG(float, repeat_penalty, 1.1f, "generate: repetition penalty (1 = off)");
ABSL_FLAG(int32_t, repeat_last_n, 64, "generate: tokens the repetition penalty looks back");
ABSL_FLAG(uint64_t, seed, 0, "generate: sampler seed");
ABSL_FLAG(bool, ignore_eos, false, "generate: keep going past the end-of-sequence token");
ABSL_FLAG(bool, json, false, "machine-readable output");
ABSL_FLAG(std::string, weights, "", "load-time weight format: q8_0 or q4_0 (default: as stored)");

namespace ember::cli {

std::vector<std::string> NormalizeFlagSpellings(int argc, char** argv) {
  static const std::set<std::string> kBoolFlags = {"bos",  "no_bos", "parse_special", "ignore_eos",
                                                   "json", "help",   "helpfull"};
  std::vector<std::string> out;
  bool next_is_value = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i == 0 || next_is_value || arg.size() < 2 || arg[0] != '-' || arg == "--") {
      next_is_value = false;
      out.push_back(arg);
      continue;
    }
    const size_t dashes = arg[1] == '-' ? 2 : 1;
    const size_t eq = arg.find('=');
    std::string name = arg.substr(dashes, eq == std::string::npos ? std::string::npos : eq - dashes);
    for (char& ch : name) {
      if (ch == '-') ch = '_';
    }
    next_is_value = eq == std::string::npos && kBoolFlags.count(name) == 0;
    out.push_back(arg.substr(0, dashes) + name + (eq == std::string::npos ? "" : arg.substr(eq)));
  }
  return out;
}

bool ReadPrompt(std::string* prompt, std::string* error) {
  const std::string p = absl::GetFlag(FLAGS_p);
  const std::string f = absl::GetFlag(FLAGS_f);
  if (!p.empty() && !f.empty()) {
    *error = "give either -p TEXT or -f FILE, not both";
    return false;
  }
  if (!f.empty()) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      *error = "cannot read prompt file " + f;
      return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    *prompt = ss.str();
    return true;
  }
  *prompt = p;
  return true;
}

bool TokenizeFlags(uint32_t* flags, std::string* error) {
  const bool bos = absl::GetFlag(FLAGS_bos), no_bos = absl::GetFlag(FLAGS_no_bos);
  if (bos && no_bos) {
    *error = "--bos and --no-bos are exclusive";
    return false;
  }
  *flags = (bos ? EMBER_TOKENIZE_ADD_BOS : 0) | (no_bos ? EMBER_TOKENIZE_NO_BOS : 0) |
           (absl::GetFlag(FLAGS_parse_special) ? EMBER_TOKENIZE_PARSE_SPECIAL : 0);
  return true;
}

}  // namespace ember::cli
