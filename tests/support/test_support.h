// Helpers shared by the test suites: where the fixtures are, and readers for them.
#ifndef EMBER_TESTS_SUPPORT_TEST_SUPPORT_H_
#define EMBER_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"

namespace ember::testing {

// Absolute path of a file under tests/data (the fixtures committed with the repo).
std::string TestDataPath(std::string_view relative);
// Absolute path of a file under ../shared, or nullopt when the kit is not beside the repo
// (a fresh clone must pass without it; tests use it only for extra cases).
std::optional<std::string> SharedPath(std::string_view relative);
// Absolute path of a file of the source tree (the checkout).
std::string SourcePath(std::string_view relative);
// Path of the built `ember` command line tool.
std::string CliPath();
std::string BinaryDir();

// Whole file as bytes; the test fails (ADD_FAILURE) and returns "" if it cannot be read.
std::string ReadFileBytes(const std::string& path);
nlohmann::json ReadJson(const std::string& path);
// One JSON value per non-empty line.
std::vector<nlohmann::json> ReadJsonLines(const std::string& path);
// A file of little-endian float32 values.
std::vector<float> ReadF32File(const std::string& path);
// Writes bytes to a fresh file under the test's temp dir and returns its path.
std::string WriteTempFile(std::string_view name, std::string_view bytes);

// Makes `to` name the file `from`: a symbolic link where the platform has them (libstdc++
// has none on Windows), else a copy. Throws std::filesystem::filesystem_error on failure.
void LinkOrCopyFile(const std::filesystem::path& from, const std::filesystem::path& to);

// Runs a shell command, returns its exit code and captures stdout (and stderr separately).
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::string& command);

}  // namespace ember::testing

#endif  // EMBER_TESTS_SUPPORT_TEST_SUPPORT_H_
