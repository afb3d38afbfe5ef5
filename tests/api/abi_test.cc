// The ABI promise, checked on the built library: libember.so exports exactly the functions
// include/ember/ember.h declares (all ember_*), nothing else, under the EMBER_0 version node.
// A removed or renamed function, or a leaked internal symbol, fails here.
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

std::set<std::string> DeclaredInHeader() {
  std::string header = ember::testing::ReadFileBytes(std::string(EMBER_SOURCE_DIR) + "/include/ember/ember.h");
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
  // Every exported function carries the version node (nm prints name@@EMBER_0).
  auto versioned = ember::testing::RunCommand("nm -D --defined-only --with-symbol-versions " + lib);
  if (versioned.exit_code == 0 && versioned.out.find("@@") != std::string::npos) {
    for (const std::string& fn : declared) {
      EXPECT_NE(versioned.out.find(fn + "@@EMBER_0"), std::string::npos) << fn;
    }
  }
}

TEST(AbiTest, SonameIsMajorVersionZero) {
  auto r = ember::testing::RunCommand("objdump -p " + ember::testing::BinaryDir() + "/lib/libember.so.0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SONAME               libember.so.0"), std::string::npos) << r.out;
}

}  // namespace
