#include "tests/support/test_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace ember::testing {

std::string TestDataPath(std::string_view relative) {
  return std::string(EMBER_TEST_DATA_DIR) + "/" + std::string(relative);
}

std::optional<std::string> SharedPath(std::string_view relative) {
  std::string p = std::string(EMBER_SHARED_DIR) + "/" + std::string(relative);
  if (!std::filesystem::exists(p)) return std::nullopt;
  return p;
}

std::string SourcePath(std::string_view relative) {
  return std::string(EMBER_SOURCE_DIR) + "/" + std::string(relative);
}

std::string CliPath() { return EMBER_CLI_PATH; }
std::string BinaryDir() { return EMBER_BINARY_DIR; }

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json ReadJson(const std::string& path) {
  return nlohmann::json::parse(ReadFileBytes(path));
}

std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ReadFileBytes(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::vector<float> ReadF32File(const std::string& path) {
  std::string bytes = ReadFileBytes(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

std::string WriteTempFile(std::string_view name, std::string_view bytes) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("ember_test_" + std::to_string(::getpid()));
  if (info != nullptr) dir /= std::string(info->test_suite_name()) + "." + info->name();
  std::filesystem::create_directories(dir);
  std::filesystem::path p = dir / std::string(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

void LinkOrCopyFile(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::create_symlink(from, to, ec);
  if (ec) std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace ember::testing
