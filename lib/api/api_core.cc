// Version, status names, the thread's last error and the global log sink.
#include "ember/ember.h"
#include "lib/api/status_map.h"
#include "lib/base/log.h"

namespace ember::api {
const char* LastError();
}  // namespace ember::api

extern "C" {

const char* ember_version(void) { return EMBER_VERSION_STRING; }

int32_t ember_version_number(void) { return EMBER_VERSION_NUMBER; }

const char* ember_status_name(ember_status status) {
  switch (status) {
    case EMBER_OK: return "EMBER_OK";
    case EMBER_ERR_INVALID_ARGUMENT: return "EMBER_ERR_INVALID_ARGUMENT";
    case EMBER_ERR_IO: return "EMBER_ERR_IO";
    case EMBER_ERR_INVALID_MODEL: return "EMBER_ERR_INVALID_MODEL";
    case EMBER_ERR_UNSUPPORTED: return "EMBER_ERR_UNSUPPORTED";
    case EMBER_ERR_OUT_OF_MEMORY: return "EMBER_ERR_OUT_OF_MEMORY";
    case EMBER_ERR_CONTEXT_FULL: return "EMBER_ERR_CONTEXT_FULL";
    case EMBER_ERR_CANCELLED: return "EMBER_ERR_CANCELLED";
    case EMBER_ERR_INVALID_TOKEN: return "EMBER_ERR_INVALID_TOKEN";
    case EMBER_ERR_INVALID_UTF8: return "EMBER_ERR_INVALID_UTF8";
    case EMBER_ERR_BUFFER_TOO_SMALL: return "EMBER_ERR_BUFFER_TOO_SMALL";
    case EMBER_ERR_INTERNAL: return "EMBER_ERR_INTERNAL";
    case EMBER_ERR_BAD_STATE: return "EMBER_ERR_BAD_STATE";
    default: return "EMBER_ERR_UNKNOWN";
  }
}

const char* ember_last_error(void) { return ember::api::LastError(); }

void ember_set_log_callback(ember_log_callback callback, void* user_data, int32_t min_level) {
  // Refused like ember_model_options_set_log_callback refuses it; with no status to
  // return, the message is all the host gets.
  if (min_level < EMBER_LOG_DEBUG || min_level > EMBER_LOG_ERROR) {
    ember::api::Fail(EMBER_ERR_INVALID_ARGUMENT, "ember_set_log_callback: min_level out of range");
    return;
  }
  ember::LogSink sink;
  sink.fn = callback;
  sink.user_data = user_data;
  sink.min_level = static_cast<ember::LogLevel>(min_level);
  ember::SetGlobalLogSink(sink);
}

}  // extern "C"
