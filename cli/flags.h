// Command-line flags of the `ember` tool, shared by its subcommands.
#ifndef EMBER_CLI_FLAGS_H_
#define EMBER_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, m);
ABSL_DECLARE_FLAG(std::string, p);
ABSL_DECLARE_FLAG(std::string, f);
ABSL_DECLARE_FLAG(int32_t, n);
ABSL_DECLARE_FLAG(int32_t, t);
ABSL_DECLARE_FLAG(int32_t, c);
ABSL_DECLARE_FLAG(bool, bos);
ABSL_DECLARE_FLAG(bool, no_bos);
ABSL_DECLARE_FLAG(bool, parse_special);
ABSL_DECLARE_FLAG(int32_t, top);
ABSL_DECLARE_FLAG(std::string, logits_out);
ABSL_DECLARE_FLAG(float, temp);
ABSL_DECLARE_FLAG(int32_t, top_k);
ABSL_DECLARE_FLAG(float, top_p);
ABSL_DECLARE_FLAG(float, min_p);
ABSL_DECLARE_FLAG(float, repeat_penalty);
ABSL_DECLARE_FLAG(int32_t, repeat_last_n);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(bool, ignore_eos);
ABSL_DECLARE_FLAG(int32_t, lookup);
ABSL_DECLARE_FLAG(std::string, draft);
ABSL_DECLARE_FLAG(int32_t, draft_n);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, weights);
ABSL_DECLARE_FLAG(std::string, arch);
ABSL_DECLARE_FLAG(std::string, type);
ABSL_DECLARE_FLAG(std::string, vocab);
ABSL_DECLARE_FLAG(std::string, o);
ABSL_DECLARE_FLAG(int32_t, layers);
ABSL_DECLARE_FLAG(int32_t, r);
ABSL_DECLARE_FLAG(std::string, bench_threads);
ABSL_DECLARE_FLAG(std::string, sessions);
ABSL_DECLARE_FLAG(std::string, system);
ABSL_DECLARE_FLAG(bool, verbose);
ABSL_DECLARE_FLAG(std::string, grammar);
ABSL_DECLARE_FLAG(std::string, json_schema);
ABSL_DECLARE_FLAG(bool, json_object);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, text_file);
ABSL_DECLARE_FLAG(std::string, template_file);
ABSL_DECLARE_FLAG(std::string, j);

namespace ember::cli {

// GNU-style spellings (--no-bos, --logits-out) become the flag names absl knows
// (--no_bos, --logits_out). Values are left alone: a token that follows a flag which
// takes a value is never rewritten, so `-p --weird-text` keeps its text.
std::vector<std::string> NormalizeFlagSpellings(int argc, char** argv);

// The prompt from -p or -f (exactly one). Returns false with a message in *error.
bool ReadPrompt(std::string* prompt, std::string* error);

// Tokenize flags from --bos / --no-bos / --parse-special.
bool TokenizeFlags(uint32_t* flags, std::string* error);

// Removes every `--NAME VALUE` / `--NAME=VALUE` from normalized `args` (after args[0]) and
// returns the values in order: absl flags hold one value, and `generate --stop` repeats.
// False with a message in *error if the last one lacks its value.
bool TakeRepeatedFlag(std::vector<std::string>* args, const std::string& name,
                      std::vector<std::string>* values, std::string* error);
// generate --stop values (filled by main before RunGenerate).
std::vector<std::string>& StopStrings();

}  // namespace ember::cli

#endif  // EMBER_CLI_FLAGS_H_
