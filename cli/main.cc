// `ember`: generate text, chat, tokenize, render chat templates, and the `eval` verification
// interface.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "cli/common.h"
#include "cli/flags.h"

namespace {

constexpr char kUsage[] =
    "usage: ember <command> [flags]\n"
    "commands:\n"
    "  generate -m MODEL (-p TEXT | -f FILE) [-n N=128] [--temp T] [--top-k K] [--top-p P]\n"
    "           [--min-p P] [--repeat-penalty R] [--seed S] [-t THREADS] [-c CTX] [--bos|--no-bos]\n"
    "           [--stop TEXT]... [--ignore-eos] [--lookup N | --draft MODEL [--draft-n K]]\n"
    "           [--grammar FILE.gbnf | --json-schema FILE.json | --json-object] [--output text|json]\n"
    "  chat     -m MODEL [--system TEXT] [-n N=512] [--temp T] [--top-k K] [--top-p P] [--min-p P]\n"
    "           [--repeat-penalty R] [--seed S] [-t THREADS] [-c CTX] [--bos|--no-bos] [--verbose]\n"
    "           (one user message per stdin line)\n"
    "  tokenize -m MODEL (-p TEXT | -f FILE) [--bos|--no-bos] [--parse-special]\n"
    "  eval     -m MODEL (-p TEXT | -f FILE) [--bos|--no-bos] [-n N=32] [--top K=20]\n"
    "           [--logits-out FILE] [-t THREADS]\n"
    "  synth    --arch phi2|llama2-7b|mistral-7b|tiny-phi2|tiny-llama|tiny-mistral --vocab TOKENIZER.gguf\n"
    "           -o OUT.gguf [--type Q4_0|Q8_0|Q4_K_M|Q5_K_M|F16|...] [--seed S] [--layers N] [-t THREADS]\n"
    "  bench    -m MODEL [-p 512[,P..]] [-n 128] [-t 1[,2..]] [--sessions 1[,4..]] [--lookup N] [-r 3] [--json]\n"
    "  serve    -m MODEL [--host 127.0.0.1] [--port 8080] [--slots N] [--ctx N] [-t THREADS]\n"
    "           [--api-key KEY | --api-key-file F] [--max-queue N] [--timeout S] [--alias NAME]\n"
    "  grammar-check -m MODEL (--json-schema FILE | --grammar FILE | --json-object) --text-file FILE\n"
    "  template (-t TEMPLATE_FILE | -m MODEL | both) -j CONTEXT.json\n"
    "  version\n";

}  // namespace

namespace ember::cli {
int RunSynth();  // cli/cmd_synth.cc
int RunBench();  // cli/cmd_bench.cc
int RunServe();  // cli/cmd_serve.cc
int RunGrammarCheck();  // cli/cmd_grammar_check.cc
}  // namespace ember::cli

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "version") {
    std::printf("ember %s\n", ember_version());
    return 0;
  }
  // Parse the flags that follow the command.
  std::vector<std::string> args = ember::cli::NormalizeFlagSpellings(argc - 1, argv + 1);
  args[0] = std::string(argv[0]) + " " + command;
  if (command == "generate") {
    std::string error;
    if (!ember::cli::TakeRepeatedFlag(&args, "stop", &ember::cli::StopStrings(), &error)) {
      std::fprintf(stderr, "ember generate: %s\n%s", error.c_str(), kUsage);
      return 2;
    }
  }
  if (command == "template") {
    // template's -t is the template file, not a thread count.
    for (std::string& a : args) {
      if (a == "-t" || a == "--t") a = "--template_file";
      else if (a.rfind("-t=", 0) == 0 || a.rfind("--t=", 0) == 0) a = "--template_file" + a.substr(a.find('='));
    }
  }
  if (command == "bench") {
    // bench takes a list of thread counts (-t 1,2), which the shared int flag cannot hold.
    for (std::string& a : args) {
      if (a == "-t" || a == "--t") a = "--bench_threads";
      else if (a.rfind("-t=", 0) == 0 || a.rfind("--t=", 0) == 0) a = "--bench_threads" + a.substr(a.find('='));
    }
  }
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(cargs.size()), cargs.data());
  if (rest.size() > 1) {
    std::fprintf(stderr, "ember %s: unexpected argument '%s'\n%s", command.c_str(), rest[1], kUsage);
    return 2;
  }
  if (command == "generate") return ember::cli::RunGenerate();
  if (command == "chat") return ember::cli::RunChat();
  if (command == "tokenize") return ember::cli::RunTokenize();
  if (command == "eval") return ember::cli::RunEval();
  if (command == "template") return ember::cli::RunTemplate();
  if (command == "synth") return ember::cli::RunSynth();
  if (command == "bench") return ember::cli::RunBench();
  if (command == "serve") return ember::cli::RunServe();
  if (command == "grammar-check") return ember::cli::RunGrammarCheck();
  std::fprintf(stderr, "ember: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
