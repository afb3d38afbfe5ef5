// `ember serve`: flags -> ServerConfig; the server itself lives in server/.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "server/server.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "serve: address to listen on");
ABSL_FLAG(int32_t, port, 8080, "serve: TCP port (0 = any free port, printed at start)");
ABSL_FLAG(int32_t, slots, 1, "serve: concurrent generations (sessions on the one model)");
ABSL_FLAG(int32_t, ctx, 0, "serve: context tokens per slot (0 = library default)");
ABSL_FLAG(std::string, api_key, "", "serve: require 'Authorization: Bearer KEY'");
ABSL_FLAG(std::string, api_key_file, "", "serve: read the API key from the first line of this file");
ABSL_FLAG(int32_t, max_queue, 64, "serve: requests that may wait for a slot before 503");
ABSL_FLAG(double, timeout, 600.0, "serve: seconds a request may take, queueing included");
ABSL_FLAG(std::string, alias, "", "serve: model id in the API (default: the model's file name)");

namespace ember::cli {

int RunServe() {
  constexpr char kCmd[] = "serve";
  server::ServerConfig config;
  config.model_path = absl::GetFlag(FLAGS_m);
  if (config.model_path.empty()) return UsageError(kCmd, "-m MODEL is required");
  config.host = absl::GetFlag(FLAGS_host);
  config.port = absl::GetFlag(FLAGS_port);
  config.n_slots = absl::GetFlag(FLAGS_slots);
  config.n_ctx = absl::GetFlag(FLAGS_ctx);
  config.n_threads = absl::GetFlag(FLAGS_t);
  config.max_queue = absl::GetFlag(FLAGS_max_queue);
  config.timeout_s = absl::GetFlag(FLAGS_timeout);
  config.alias = absl::GetFlag(FLAGS_alias);
  if (config.port < 0 || config.port > 65535) return UsageError(kCmd, "--port must be 0..65535");
  if (config.n_slots < 1 || config.n_slots > 256) return UsageError(kCmd, "--slots must be 1..256");
  if (config.n_ctx < 0) return UsageError(kCmd, "--ctx must be >= 0");
  if (config.max_queue < 0 || config.max_queue > 100000) return UsageError(kCmd, "--max-queue must be 0..100000");
  if (!(config.timeout_s > 0)) return UsageError(kCmd, "--timeout must be > 0 seconds");

  const std::string key = absl::GetFlag(FLAGS_api_key);
  const std::string key_file = absl::GetFlag(FLAGS_api_key_file);
  if (!key.empty() && !key_file.empty()) return UsageError(kCmd, "give --api-key or --api-key-file, not both");
  config.api_key = key;
  if (!key_file.empty()) {
    std::ifstream in(key_file);
    if (!in) return UsageError(kCmd, "cannot read --api-key-file " + key_file);
    std::getline(in, config.api_key);
    while (!config.api_key.empty() && (config.api_key.back() == '\r' || config.api_key.back() == ' ')) {
      config.api_key.pop_back();
    }
    if (config.api_key.empty()) return UsageError(kCmd, "--api-key-file " + key_file + " holds no key");
  }
  return server::RunServer(config);
}

}  // namespace ember::cli
