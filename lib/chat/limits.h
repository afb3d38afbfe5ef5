// The sandbox's resource caps. Templates from model files are untrusted: a render that
// would exceed any of these stops with an error status instead of exhausting memory, stack
// or time.
#ifndef EMBER_CHAT_LIMITS_H_
#define EMBER_CHAT_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace ember::chat {

struct RenderLimits {
  // Bytes of rendered text, and of any one string a template builds.
  size_t max_output_bytes = size_t{16} << 20;
  // Elements of any one list a template builds (jinja2's sandbox caps range() at 100000).
  size_t max_list_items = size_t{1} << 20;
  // Loop iterations over the whole render (every `for`, every filter that walks a list).
  uint64_t max_loop_iterations = 1000000;
  // Nested macro / caller / recursive-loop calls.
  int max_call_depth = 64;
  // Statements and expressions evaluated inside one another, macro calls included (each
  // level is a C++ stack frame of about a kilobyte).
  int max_nesting = 1000;
  // Wall time of one render.
  absl::Duration max_time = absl::Seconds(10);
};

}  // namespace ember::chat

#endif  // EMBER_CHAT_LIMITS_H_
