// tokenizer.json's BPE merges come in two spellings: "left right" (one space, older files)
// and ["left", "right"] (newer files, which allow spaces inside tokens). Both tokenizer
// families read them through this one function.
#ifndef EMBER_TOKENIZER_HF_MERGES_H_
#define EMBER_TOKENIZER_HF_MERGES_H_

#include <optional>
#include <string>
#include <utility>

#include "nlohmann/json.hpp"

namespace ember {

// The two parts of a merge entry, or nullopt if it is neither a string with exactly one
// space between two non-empty parts nor an array of two strings.
std::optional<std::pair<std::string, std::string>> SplitHfMerge(const nlohmann::json& merge);

}  // namespace ember

#endif  // EMBER_TOKENIZER_HF_MERGES_H_
