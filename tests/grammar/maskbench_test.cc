// The development sample of JSONSchemaBench (tests/data/structured/maskbench-dev): every
// instance, serialised compactly, tokenized with Phi-2's real vocabulary and walked through
// the constrained matcher exactly as `ember grammar-check` does. The hard rule: no invalid
// instance is ever accepted-and-complete. The schema passing rate is reported (and must not
// fall below the 80% goal).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/grammar/text_check.h"
#include "lib/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace ember::grammar {
namespace {

using Json = nlohmann::ordered_json;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Maskbench, NoInvalidInstanceIsAcceptedAndTheSampleMostlyPasses) {
  const std::filesystem::path dir = std::filesystem::path(::ember::testing::TestDataPath("structured/maskbench-dev"));
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok =
      TokenizerFromHfDir(::ember::testing::TestDataPath("models/tiny-phi2"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  absl::StatusOr<std::shared_ptr<const TokenTrie>> trie = TokenTrie::Build(**tok, (*tok)->n_tokens());
  ASSERT_TRUE(trie.ok());
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 300u);
  int passed = 0, compiled = 0, valid_good = 0, valid_total = 0, invalid_good = 0, invalid_total = 0;
  std::vector<double> mask_us;
  std::map<std::string, int> compile_errors;
  for (const auto& f : files) {
    const Json doc = Json::parse(ReadFile(f));
    absl::StatusOr<std::shared_ptr<const Program>> program =
        CompileConstraint(GrammarKind::kJsonSchema, doc["schema"].dump());
    if (!program.ok()) {
      std::string m(program.status().message());
      const size_t q = m.find("': ");
      ++compile_errors[q == std::string::npos ? m : m.substr(q + 3, 60)];
      continue;
    }
    ++compiled;
    bool schema_ok = true;
    GrammarConstraint c(*program, *trie);
    for (const Json& t : doc["tests"]) {
      const bool valid = t["valid"].get<bool>();
      const std::string text = t["data"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::vector<int32_t> ids;
      ASSERT_TRUE((*tok)->Encode(text, EncodeOptions{}, &ids).ok());
      // One constraint per schema, reset per instance: its caches carry over, which keeps
      // the suite quick and checks that they never change a verdict.
      c.Reset();
      TextCheckResult r = CheckTokens(&c, ids);
      mask_us.insert(mask_us.end(), r.mask_us.begin(), r.mask_us.end());
      if (getenv("EMBER_MASKBENCH_VERBOSE") && r.MaxMaskUs() > 20000) {
        std::printf("slow mask %.0f us: %s\n", r.MaxMaskUs(), f.filename().c_str());
      }
      const bool good = r.accepted && r.complete;
      if (valid) {
        ++valid_total;
        valid_good += good;
        if (!good) schema_ok = false;
        if (!good && getenv("EMBER_MASKBENCH_VERBOSE")) {
          std::printf("valid rejected: %s at token %d: %s\n", f.filename().c_str(), r.rejected_at, text.substr(0, 300).c_str());
        }
      } else {
        ++invalid_total;
        invalid_good += good;
        if (good) schema_ok = false;
        EXPECT_FALSE(good) << f.filename() << ": invalid instance accepted: " << t["description"] << " " << text;
      }
    }
    passed += schema_ok;
  }
  std::sort(mask_us.begin(), mask_us.end());
  std::printf("maskbench-dev: %d/300 schemas pass (%.1f%%), %d compile; valid instances good %d/%d; invalid good %d/%d\n",
              passed, passed / 3.0, compiled, valid_good, valid_total, invalid_good, invalid_total);
  if (!mask_us.empty()) {
    std::printf("mask time per token (Phi-2 vocabulary, %zu masks): median %.1f us, p99 %.1f us, max %.1f us\n",
                mask_us.size(), mask_us[mask_us.size() / 2], mask_us[mask_us.size() * 99 / 100], mask_us.back());
  }
  for (const auto& [msg, n] : compile_errors) std::printf("  %3d x %s\n", n, msg.c_str());
  EXPECT_EQ(invalid_good, 0);
  EXPECT_GE(passed, 240);  // the goal: >= 80% of the sample
}

}  // namespace
}  // namespace ember::grammar
