#include "lib/tokenizer/hf_merges.h"

namespace ember {

std::optional<std::pair<std::string, std::string>> SplitHfMerge(const nlohmann::json& merge) {
  if (merge.is_string()) {
    const std::string& s = merge.get_ref<const std::string&>();
    const size_t space = s.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= s.size() ||
        s.find(' ', space + 1) != std::string::npos) {
      return std::nullopt;
    }
    return std::make_pair(s.substr(0, space), s.substr(space + 1));
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    return std::make_pair(merge[0].get<std::string>(), merge[1].get<std::string>());
  }
  return std::nullopt;
}

}  // namespace ember
