// RunCommand (tests/support/test_support.h): POSIX popen and wait status, for the tests
// that drive the `ember` tool and inspect libember.so, which are built on POSIX systems
// only (tests/CMakeLists.txt).
#include <sys/wait.h>

#include <cstdio>

#include "tests/support/test_support.h"

namespace ember::testing {

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  std::string err_path = WriteTempFile("stderr.txt", "");
  std::string full = command + " 2>" + err_path;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFileBytes(err_path);
  return r;
}

}  // namespace ember::testing
