// Runs the tokenizer expectation files of tests/data/tokenizers/expect against a Tokenizer:
// every line must match exactly; the first few mismatches are reported in full.
#ifndef EMBER_TESTS_TOKENIZER_SPM_SUITE_H_
#define EMBER_TESTS_TOKENIZER_SPM_SUITE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

namespace ember::testing {

struct SuiteCounts {
  int total = 0;
  int passed = 0;
};

inline std::string IdsToString(const std::vector<int32_t>& ids) {
  return "[" + absl::StrJoin(ids, ", ") + "]";
}

// Encode lines: {"id", "text", "ids", "add_bos", "parse_special"}.
inline SuiteCounts RunEncodeSuite(const Tokenizer& tokenizer, const std::string& file) {
  SuiteCounts counts;
  int reported = 0;
  for (const nlohmann::json& line : ReadJsonLines(TestDataPath(file))) {
    ++counts.total;
    const std::string text = line["text"].get<std::string>();
    const std::vector<int32_t> expected = line["ids"].get<std::vector<int32_t>>();
    EncodeOptions options;
    options.add_bos = line["add_bos"].get<bool>();
    options.parse_special = line["parse_special"].get<bool>();
    std::vector<int32_t> ids;
    const absl::Status status = tokenizer.Encode(text, options, &ids);
    if (status.ok() && ids == expected) {
      ++counts.passed;
    } else if (reported++ < 10) {
      ADD_FAILURE() << file << " " << line["id"].get<std::string>() << " text \""
                    << absl::CHexEscape(text) << "\" add_bos=" << options.add_bos
                    << " parse_special=" << options.parse_special << "\n  expected "
                    << IdsToString(expected) << "\n  got      " << IdsToString(ids) << " "
                    << status;
    }
  }
  return counts;
}

// Decode lines: {"id", "ids", "text"}; decoded with skip_special = false.
inline SuiteCounts RunDecodeSuite(const Tokenizer& tokenizer, const std::string& file) {
  SuiteCounts counts;
  int reported = 0;
  for (const nlohmann::json& line : ReadJsonLines(TestDataPath(file))) {
    ++counts.total;
    const std::vector<int32_t> ids = line["ids"].get<std::vector<int32_t>>();
    const std::string expected = line["text"].get<std::string>();
    std::string text;
    const absl::Status status = tokenizer.Decode(ids, /*skip_special=*/false, &text);
    if (status.ok() && text == expected) {
      ++counts.passed;
    } else if (reported++ < 10) {
      ADD_FAILURE() << file << " " << line["id"].get<std::string>() << " ids " << IdsToString(ids)
                    << "\n  expected \"" << absl::CHexEscape(expected) << "\"\n  got      \""
                    << absl::CHexEscape(text) << "\" " << status;
    }
  }
  return counts;
}

}  // namespace ember::testing

#endif  // EMBER_TESTS_TOKENIZER_SPM_SUITE_H_
