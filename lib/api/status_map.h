// The C boundary's error plumbing: absl::Status -> ember_status plus the thread-local
// message, and a guard that keeps every C++ exception inside the library.
#ifndef EMBER_API_STATUS_MAP_H_
#define EMBER_API_STATUS_MAP_H_

#include <new>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ember/ember.h"

namespace ember::api {

// Maps a status to its ember code (see lib/base/errors.h for the table) and, if it is an
// error, records its message as the thread's last error.
ember_status Report(const absl::Status& status);
// Records `message` and returns `code`.
ember_status Fail(ember_status code, std::string_view message);

// Runs `body` (returning ember_status), converting any escaping exception into
// EMBER_ERR_OUT_OF_MEMORY (std::bad_alloc) or EMBER_ERR_INTERNAL. `where` names the API
// function in the message.
template <typename Body>
ember_status Guard(const char* where, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    try {
      return Fail(EMBER_ERR_OUT_OF_MEMORY, std::string(where) + ": out of memory");
    } catch (...) {
      return Fail(EMBER_ERR_OUT_OF_MEMORY, "out of memory");
    }
  } catch (const std::exception& e) {
    return Fail(EMBER_ERR_INTERNAL, e.what());
  } catch (...) {
    return Fail(EMBER_ERR_INTERNAL, where);
  }
}

}  // namespace ember::api

#endif  // EMBER_API_STATUS_MAP_H_
