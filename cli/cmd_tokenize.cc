// `ember tokenize`: prints the token ids of a text (one line, space separated; --json for
// a JSON array of {id, piece}).
#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "nlohmann/json.hpp"

namespace ember::cli {

int RunTokenize() {
  constexpr char kCmd[] = "tokenize";
  std::string prompt, error;
  uint32_t flags = 0;
  if (!ReadPrompt(&prompt, &error) || !TokenizeFlags(&flags, &error)) return UsageError(kCmd, error);
  ModelPtr model = LoadModelFromFlags(kCmd);
  if (!model) return 1;
  std::vector<int32_t> ids;
  if (!Tokenize(kCmd, model.get(), prompt, flags, &ids)) return 1;
  if (absl::GetFlag(FLAGS_json)) {
    nlohmann::json out = nlohmann::json::array();
    for (int32_t id : ids) {
      char piece[256];
      size_t len = 0;
      ember_status st = ember_detokenize(model.get(), &id, 1, EMBER_DETOKENIZE_DEFAULT, piece, sizeof piece, &len);
      out.push_back({{"id", id}, {"piece", st == EMBER_OK ? std::string(piece, len) : std::string()}});
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
  std::printf("\n");
  return 0;
}

}  // namespace ember::cli
