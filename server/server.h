// `ember serve`: an OpenAI-compatible HTTP server over the public C API.
#ifndef EMBER_SERVER_SERVER_H_
#define EMBER_SERVER_SERVER_H_

#include <cstdint>
#include <string>

namespace ember::server {

struct ServerConfig {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;               // 0 = any free port (printed when listening)
  int32_t n_slots = 1;
  int32_t n_ctx = 0;             // per slot; 0 = library default
  int32_t n_threads = 0;         // per slot; 0 = library default
  std::string api_key;           // empty = no key needed
  int32_t max_queue = 64;        // requests waiting for a slot before 503
  double timeout_s = 600.0;      // wall time per request
  std::string alias;             // model id in responses; default: the file name
  size_t max_body_bytes = 4u << 20;
  double shutdown_grace_s = 10.0;  // SIGTERM: time in-flight work gets to finish
};

// Loads the model, serves until SIGTERM/SIGINT, drains and returns the process exit code
// (0 after a graceful shutdown). Messages go to stderr.
int RunServer(const ServerConfig& config);

}  // namespace ember::server

#endif  // EMBER_SERVER_SERVER_H_
