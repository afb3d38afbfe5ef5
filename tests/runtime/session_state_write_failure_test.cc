// A session state file write that fails half way (the file size limit, RLIMIT_FSIZE, stops
// it) leaves the old file intact and no temporary behind. POSIX only (setrlimit, SIGXFSZ):
// tests/CMakeLists.txt does not build it for Windows. The other state file cases are in
// session_state_test.cc.
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/runtime/sampler.h"
#include "lib/runtime/session.h"
#include "lib/runtime/session_state.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

TEST(SessionStateFileTest, AWriteThatFailsHalfWayLeavesTheOldFile) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "ember_state_write_failure";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "chat.state").string();
  auto model = Model::Load(TestDataPath("models/stories260K.gguf"), ModelLoadOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions options;
  options.n_ctx = 64;
  auto session = Session::Create(**model, options);
  ASSERT_TRUE(session.ok()) << session.status();
  SamplerParams params;
  params.temperature = 0.9f;
  params.seed = 2;
  Sampler sampler(params);
  std::vector<int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(1 + (i * 37 + 11) % 500);
  ASSERT_TRUE((*session)->Eval(absl::MakeConstSpan(ids).first(3), nullptr, nullptr).ok());
  ASSERT_TRUE(SaveSessionStateFile(**session, sampler, path).ok());
  const std::string old_bytes = ReadFileBytes(path);

  // More tokens: the next state is larger than the old one plus the limit's slack.
  ASSERT_TRUE((*session)->Eval(absl::MakeConstSpan(ids).subspan(3), nullptr, nullptr).ok());
  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = old_bytes.size() + 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status failed = SaveSessionStateFile(**session, sampler, path);
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;  // IoError
  EXPECT_EQ(ReadFileBytes(path), old_bytes);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ember::testing
