// `ember grammar-check`: walks a text, tokenized with the model's tokenizer (no BOS), through
// the grammar constraint token by token (the mask is computed at every step and the token
// must be in it) and prints one compact JSON object:
//   {"accepted":..,"complete":..,"tokens":N,"rejected_at":I|null,"mask_us_median":X,"mask_us_max":Y}
// Exit 0 whatever the verdict; 1 when the grammar or schema does not compile (or a file or
// the model cannot be read); 2 on a usage error. A developer command: it reaches the grammar
// engine directly (lib/grammar), and loads only the model's tokenizer, not its weights.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "lib/format/gguf.h"
#include "lib/format/hf_dir.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/grammar/text_check.h"
#include "lib/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"

namespace ember::cli {

namespace {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path) {
  if (HfModelDir::Looks(path)) return TokenizerFromHfDir(path);
  absl::StatusOr<std::unique_ptr<GgufFile>> gguf = GgufFile::Open(path);
  if (!gguf.ok()) return gguf.status();
  return TokenizerFromGguf(**gguf);
}

double Round3(double v) { return std::round(v * 1000) / 1000; }

}  // namespace

int RunGrammarCheck() {
  constexpr char kCmd[] = "grammar-check";
  const std::string model = absl::GetFlag(FLAGS_m);
  const std::string grammar_file = absl::GetFlag(FLAGS_grammar);
  const std::string schema_file = absl::GetFlag(FLAGS_json_schema);
  const bool json_object = absl::GetFlag(FLAGS_json_object);
  const std::string text_file = absl::GetFlag(FLAGS_text_file);
  if (model.empty()) return UsageError(kCmd, "-m MODEL is required");
  if (text_file.empty()) return UsageError(kCmd, "--text-file FILE is required");
  if ((!grammar_file.empty()) + (!schema_file.empty()) + json_object != 1) {
    return UsageError(kCmd, "give exactly one of --json-schema FILE, --grammar FILE, --json-object");
  }
  grammar::GrammarKind kind = grammar::GrammarKind::kJsonObject;
  std::string grammar_text;
  if (!grammar_file.empty() || !schema_file.empty()) {
    kind = grammar_file.empty() ? grammar::GrammarKind::kJsonSchema : grammar::GrammarKind::kGbnf;
    const std::string& file = grammar_file.empty() ? schema_file : grammar_file;
    if (!ReadWholeFile(file, &grammar_text)) {
      std::fprintf(stderr, "ember %s: cannot read %s\n", kCmd, file.c_str());
      return 1;
    }
  }
  absl::StatusOr<std::shared_ptr<const grammar::Program>> program = grammar::CompileConstraint(kind, grammar_text);
  if (!program.ok()) {
    std::fprintf(stderr, "ember %s: %s\n", kCmd, std::string(program.status().message()).c_str());
    return 1;
  }
  std::string text;
  if (!ReadWholeFile(text_file, &text)) {
    std::fprintf(stderr, "ember %s: cannot read %s\n", kCmd, text_file.c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(model);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "ember %s: %s: %s\n", kCmd, model.c_str(), std::string(tokenizer.status().message()).c_str());
    return 1;
  }
  std::vector<int32_t> ids;
  absl::Status st = (*tokenizer)->Encode(text, EncodeOptions{}, &ids);
  if (!st.ok()) {
    std::fprintf(stderr, "ember %s: cannot tokenize the text: %s\n", kCmd, std::string(st.message()).c_str());
    return 1;
  }
  absl::StatusOr<std::shared_ptr<const grammar::TokenTrie>> trie =
      grammar::TokenTrie::Build(**tokenizer, (*tokenizer)->n_tokens());
  if (!trie.ok()) {
    std::fprintf(stderr, "ember %s: %s\n", kCmd, std::string(trie.status().message()).c_str());
    return 1;
  }
  grammar::GrammarConstraint constraint(*program, *trie);
  grammar::TextCheckResult r =
      grammar::CheckTokens(&constraint, ids, grammar::TokenizerAddedPrefixSpace(**trie, ids, text));
  nlohmann::ordered_json out;
  out["accepted"] = r.accepted;
  out["complete"] = r.accepted && r.complete;
  out["tokens"] = r.tokens;
  out["rejected_at"] = r.rejected_at < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.rejected_at);
  out["mask_us_median"] = Round3(r.MedianMaskUs());
  out["mask_us_max"] = Round3(r.MaxMaskUs());
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace ember::cli
