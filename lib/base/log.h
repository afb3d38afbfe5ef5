// Library logging. Silent by default: messages go to the model's sink if it has one, else
// to the process-wide sink the host installed with ember_set_log_callback(), else nowhere.
#ifndef EMBER_BASE_LOG_H_
#define EMBER_BASE_LOG_H_

#include <string_view>

namespace ember {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using LogFn = void (*)(void* user_data, int level, const char* message);

// A sink plus its threshold; a default-constructed one means "use the global sink".
struct LogSink {
  LogFn fn = nullptr;
  void* user_data = nullptr;
  LogLevel min_level = LogLevel::kInfo;
};

void SetGlobalLogSink(const LogSink& sink);
// Emits to `sink` if it has a function, otherwise to the global sink.
void Log(const LogSink* sink, LogLevel level, std::string_view message);

}  // namespace ember

#endif  // EMBER_BASE_LOG_H_
