// Stop strings over streamed text: text that could still become a stop string is held back
// and never emitted, and the stop string itself is never emitted.
//
// TODO(generate_ex): ember_session_generate_ex() does this inside the library (issue 10);
// once it lands the engine passes the stop strings to it and this filter goes away.
#ifndef EMBER_SERVER_STOP_FILTER_H_
#define EMBER_SERVER_STOP_FILTER_H_

#include <string>
#include <string_view>
#include <vector>

namespace ember::server {

class StopFilter {
 public:
  explicit StopFilter(std::vector<std::string> stops);

  // Adds generated text. Appends to *emit the text that is now known not to be part of a
  // stop string. Returns true once a stop string has appeared: *emit then ends right
  // before it and later calls emit nothing.
  bool Push(std::string_view text, std::string* emit);

  // At the end of generation (no stop string seen): the held-back text.
  std::string Flush();

  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace ember::server

#endif  // EMBER_SERVER_STOP_FILTER_H_
