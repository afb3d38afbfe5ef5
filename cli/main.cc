// `ember`: generate text, tokenize, and the `eval` verification interface.
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
    "  tokenize -m MODEL (-p TEXT | -f FILE) [--bos|--no-bos] [--parse-special]\n"
    "  eval     -m MODEL (-p TEXT | -f FILE) [--bos|--no-bos] [-n N=32] [--top K=20]\n"
    "           [--logits-out FILE] [-t THREADS]\n"
    "  version\n";

}  // namespace

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
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(cargs.size()), cargs.data());
  if (rest.size() > 1) {
    std::fprintf(stderr, "ember %s: unexpected argument '%s'\n%s", command.c_str(), rest[1], kUsage);
    return 2;
  }
  if (command == "generate") return ember::cli::RunGenerate();
  if (command == "tokenize") return ember::cli::RunTokenize();
  if (command == "eval") return ember::cli::RunEval();
  std::fprintf(stderr, "ember: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
