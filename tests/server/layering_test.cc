// server/ is a host of the public C API: it may include ember/ember.h but nothing of the
// library's internals (lib/, kernels/), which keeps `ember serve` the proof that the API
// is enough for a real host.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "tests/support/test_support.h"

namespace {

TEST(ServeLayering, ServerIncludesOnlyThePublicHeader) {
  const std::filesystem::path dir = std::filesystem::path(ember::testing::SourcePath("server"));
  const std::regex include(R"re(^\s*#\s*include\s*[<"]([^>"]+)[>"])re");
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".cc" && ext != ".h") continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, include)) continue;
      const std::string header = m[1];
      EXPECT_FALSE(header.rfind("lib/", 0) == 0 || header.rfind("kernels/", 0) == 0 || header.rfind("absl/", 0) == 0)
          << entry.path() << " includes " << header;
    }
  }
  EXPECT_GT(files, 5);
}

}  // namespace
