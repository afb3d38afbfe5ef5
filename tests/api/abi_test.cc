// The ABI promise, checked on the built library: libember.so exports exactly the functions
// include/ember/ember.h declares (all ember_*), nothing else, each under the version node
// lib/api/ember.map names for it. A removed or renamed function, or a leaked internal
// symbol, fails here. (Signatures and types: tests/abi/abi_check.sh, ctest -L abi.)
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

std::set<std::string> DeclaredInHeader() {
  std::string header = ember::testing::ReadFileBytes(ember::testing::SourcePath("include/ember/ember.h"));
  std::set<std::string> names;
  std::istringstream in(header);
  std::string line;
  const std::regex fn(R"(\b(ember_[a-z0-9_]+)\s*\()");
  while (std::getline(in, line)) {
    if (line.find("EMBER_API") == std::string::npos) continue;
    std::smatch m;
    if (std::regex_search(line, m, fn)) names.insert(m[1]);
  }
  return names;
}

// lib/api/ember.map as symbol -> version node. Wildcards in a global: list are recorded
// under the name "*" so that the test can reject them.
std::map<std::string, std::string> VersionScript() {
  std::string map = ember::testing::ReadFileBytes(ember::testing::SourcePath("lib/api/ember.map"));
  map = std::regex_replace(map, std::regex(R"(/\*[^*]*\*+([^/*][^*]*\*+)*/)"), " ");  // comments
  std::map<std::string, std::string> nodes;
  const std::regex node(R"(([A-Za-z0-9_.]+)\s*\{([^}]*)\})");
  for (std::sregex_iterator it(map.begin(), map.end(), node), end; it != end; ++it) {
    const std::string name = (*it)[1];
    std::string body = (*it)[2];
    body = body.substr(0, body.find("local:"));
    body = std::regex_replace(body, std::regex(R"(global:)"), " ");
    std::istringstream entries(std::regex_replace(body, std::regex(";"), " "));
    std::string entry;
    while (entries >> entry) nodes[entry.find('*') == std::string::npos ? entry : "*"] = name;
  }
  return nodes;
}

TEST(AbiTest, ExportsExactlyTheHeaderFunctions) {
  const std::string lib = ember::testing::BinaryDir() + "/lib/libember.so.0";
  auto r = ember::testing::RunCommand("nm -D --defined-only " + lib);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> exported, others;
  std::istringstream in(r.out);
  std::string addr, type, name;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (!(fields >> addr >> type >> name)) continue;
    if (type == "A" && name == "EMBER_0") continue;  // the version node itself
    const std::string bare = name.substr(0, name.find('@'));
    (bare.rfind("ember_", 0) == 0 ? exported : others).insert(bare);
  }
  EXPECT_TRUE(others.empty()) << "non-API symbols exported, first: " << *others.begin();
  const std::set<std::string> declared = DeclaredInHeader();
  ASSERT_GT(declared.size(), 40u);
  EXPECT_EQ(exported, declared);
  // Every exported function carries the version node ember.map gives it (nm prints
  // name@@NODE).
  const std::map<std::string, std::string> nodes = VersionScript();
  auto versioned = ember::testing::RunCommand("nm -D --defined-only --with-symbol-versions " + lib);
  if (versioned.exit_code == 0 && versioned.out.find("@@") != std::string::npos) {
    for (const std::string& fn : declared) {
      auto node = nodes.find(fn);
      ASSERT_NE(node, nodes.end()) << fn << " is not listed in lib/api/ember.map";
      EXPECT_NE(versioned.out.find(fn + "@@" + node->second + "\n"), std::string::npos) << fn;
    }
  }
}

TEST(AbiTest, VersionScriptListsEveryFunctionExplicitly) {
  const std::map<std::string, std::string> nodes = VersionScript();
  EXPECT_EQ(nodes.count("*"), 0u) << "a wildcard in a global: list of lib/api/ember.map (name each symbol)";
  ASSERT_GT(nodes.count("ember_version"), 0u);
  EXPECT_EQ(nodes.at("ember_version"), "EMBER_0");  // 0.1's symbols stay in EMBER_0 forever
  std::set<std::string> listed;
  for (const auto& [name, node] : nodes) listed.insert(name);
  EXPECT_EQ(listed, DeclaredInHeader());
}

// Every function that returns an ember_status is declared EMBER_NODISCARD (on the line
// before EMBER_API), so hosts are warned when they ignore a failure. A newly appended
// declaration without it fails here; this adds the line wherever it is missing:
//   awk '/^EMBER_API ember_status / && prev != "EMBER_NODISCARD" {print "EMBER_NODISCARD"}
//        {print; prev = $0}' include/ember/ember.h > /tmp/ember.h && mv /tmp/ember.h include/ember/ember.h
TEST(AbiTest, StatusFunctionsAreNodiscard) {
  std::istringstream in(
      ember::testing::ReadFileBytes(ember::testing::SourcePath("include/ember/ember.h")));
  std::string previous, line;
  int status_functions = 0;
  while (std::getline(in, line)) {
    if (line.rfind("EMBER_API", 0) == 0 && line.find(" ember_status ") != std::string::npos) {
      ++status_functions;
      EXPECT_EQ(previous, "EMBER_NODISCARD") << line;
    }
    previous = line;
  }
  EXPECT_GT(status_functions, 20);
}

TEST(AbiTest, SonameIsMajorVersionZero) {
  auto r = ember::testing::RunCommand("objdump -p " + ember::testing::BinaryDir() + "/lib/libember.so.0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SONAME               libember.so.0"), std::string::npos) << r.out;
}

}  // namespace
