#include "lib/base/log.h"

#include <mutex>
#include <string>

namespace ember {
namespace {
std::mutex g_mu;
LogSink g_sink;  // guarded by g_mu
}  // namespace

void SetGlobalLogSink(const LogSink& sink) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_sink = sink;
}

void Log(const LogSink* sink, LogLevel level, std::string_view message) {
  LogSink s;
  if (sink != nullptr && sink->fn != nullptr) {
    s = *sink;
  } else {
    std::lock_guard<std::mutex> lock(g_mu);
    s = g_sink;
  }
  if (s.fn == nullptr || level < s.min_level) return;
  std::string line(message);
  s.fn(s.user_data, static_cast<int>(level), line.c_str());
}

}  // namespace ember
