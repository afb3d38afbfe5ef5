// Tells whether the client of a request has gone away while its handler is still busy.
//
// cpp-httplib 0.11 (Debian 12) gives a handler no access to its socket and no "connection
// closed" query, yet a disconnected client must cancel its generation at once, not when
// the next token fails to write. The handler's socket is the one whose local and peer
// addresses are the request's (a TCP 4-tuple is unique among open connections), so it is
// found once among the process's descriptors and then polled for the peer's FIN/RST.
#ifndef EMBER_SERVER_CONNECTION_PROBE_H_
#define EMBER_SERVER_CONNECTION_PROBE_H_

#include <string>

namespace ember::server {

class ConnectionProbe {
 public:
  ConnectionProbe(const std::string& local_addr, int local_port, const std::string& remote_addr,
                  int remote_port);

  // True once the peer closed or reset the connection. False when the socket was not found
  // (then only a failed write tells).
  bool PeerGone() const;

 private:
  int fd_ = -1;
};

}  // namespace ember::server

#endif  // EMBER_SERVER_CONNECTION_PROBE_H_
