// Raw HTTP/1.1 exchanges over a loopback socket for the access tests, which must send headers
// an HTTP library fills in itself (Host, Origin) and hold connections half-open.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace corral::testing {

struct RawHttpResponse {
  int status = 0;                                   // 0: no response (connection refused, closed or timed out)
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const;  // first value or ""
};

// Connects to 127.0.0.1:port (from `source_ip` when given, e.g. "127.0.0.2"); -1 on failure.
int raw_connect(int port, const std::string& source_ip = "");
// Sends `request` (adding nothing) on a new connection and reads the answer until the server
// closes the connection; send "Connection: close" to get it closed after one response.
RawHttpResponse raw_exchange(int port, const std::string& request,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Reads from `fd` until EOF, error or timeout and parses what came as one response.
RawHttpResponse raw_read_response(int fd, std::chrono::milliseconds timeout);
// True when the server closed `fd` (EOF or reset) within `timeout`.
bool raw_wait_closed(int fd, std::chrono::milliseconds timeout);

}  // namespace corral::testing
