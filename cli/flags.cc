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
ABSL_FLAG(uint64_t, seed, 0, "generate: sampler seed; synth: weight seed");
ABSL_FLAG(bool, ignore_eos, false, "generate: keep going past end-of-generation tokens");
ABSL_FLAG(std::string, draft, "", "generate: draft model (same vocabulary) for speculative decoding");
ABSL_FLAG(int32_t, draft_n, 4, "generate: draft tokens per step with --draft (1..7)");
ABSL_FLAG(int32_t, lookup, 0, "generate: speculative decoding by prompt lookup, up to N draft tokens a step (0 = off, max 7); bench: add the gen<n> and gen<n>+lookup<N> tests");
ABSL_FLAG(bool, json, false, "machine-readable output");
ABSL_FLAG(std::string, weights, "", "load-time weight format: q8_0 or q4_0 (default: as stored)");
ABSL_FLAG(std::string, arch, "", "synth: phi2, llama2-7b, mistral-7b, tiny-phi2, tiny-llama, tiny-mistral");
ABSL_FLAG(std::string, type, "Q4_0", "synth: F32, F16, BF16, Q8_0, Q4_0, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K");
ABSL_FLAG(std::string, vocab, "", "synth: GGUF file whose tokenizer.ggml.* vocabulary the model gets");
ABSL_FLAG(std::string, o, "", "synth: output GGUF file");
ABSL_FLAG(int32_t, layers, 0, "synth: number of layers (0 = the architecture's own)");
ABSL_FLAG(int32_t, r, 3, "bench: repetitions per test");
ABSL_FLAG(std::string, grammar, "", "generate, grammar-check: GBNF grammar file");
ABSL_FLAG(std::string, json_schema, "", "generate, grammar-check: JSON Schema file");
ABSL_FLAG(bool, json_object, false, "generate, grammar-check: any JSON object (JSON mode)");
ABSL_FLAG(std::string, output, "text", "generate: text (stream the prompt and the text) or json (one JSON object)");
ABSL_FLAG(std::string, text_file, "", "grammar-check: the text to check");
ABSL_FLAG(std::string, template_file, "", "template: the chat template file (what -t means for template)");
ABSL_FLAG(std::string, j, "", "template: JSON file with the render context");
ABSL_FLAG(std::string, system, "", "chat: the system message opening the conversation");
ABSL_FLAG(bool, verbose, false, "chat: per turn, prompt tokens evaluated and reused (stderr)");
ABSL_FLAG(std::string, bench_threads, "", "bench: comma-separated thread counts (what -t means for bench)");
ABSL_FLAG(std::string, sessions, "",
          "bench: comma-separated session counts; tg with N > 1 decodes N sessions a token each in one "
          "forward pass (batched decode) and reports their aggregate tokens/s");

namespace ember::cli {

std::vector<std::string> NormalizeFlagSpellings(int argc, char** argv) {
  static const std::set<std::string> kBoolFlags = {"bos",  "no_bos", "parse_special", "ignore_eos",
                                                   "json", "json_object", "verbose", "help", "helpfull"};
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
    const bool is_bool = kBoolFlags.count(name) != 0;
    next_is_value = eq == std::string::npos && !is_bool;
    // A bare bool flag gets an explicit "=true": absl's parser (a shared library) cannot
    // recognise our bool flags by type across the hidden-visibility boundary and would
    // otherwise demand a value.
    const bool own_bool = is_bool && name != "help" && name != "helpfull";
    out.push_back(arg.substr(0, dashes) + name +
                  (eq != std::string::npos ? arg.substr(eq) : own_bool ? "=true" : ""));
  }
  return out;
}

bool TakeRepeatedFlag(std::vector<std::string>* args, const std::string& name,
                      std::vector<std::string>* values, std::string* error) {
  std::vector<std::string> kept;
  for (size_t i = 0; i < args->size(); ++i) {
    const std::string& a = (*args)[i];
    if (i == 0 || (a != "--" + name && a != "-" + name && a.rfind("--" + name + "=", 0) != 0 &&
                   a.rfind("-" + name + "=", 0) != 0)) {
      kept.push_back(a);
      continue;
    }
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      values->push_back(a.substr(eq + 1));
    } else if (i + 1 < args->size()) {
      values->push_back((*args)[++i]);
    } else {
      *error = "--" + name + " needs a value";
      return false;
    }
  }
  *args = std::move(kept);
  return true;
}

std::vector<std::string>& StopStrings() {
  static auto* stops = new std::vector<std::string>();
  return *stops;
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
