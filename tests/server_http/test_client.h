// A tiny blocking HTTP/1.1 client over POSIX sockets for the server tests. Raw sockets (not an
// HTTP library) so tests can send malformed or pipelined bytes, read chunks one at a time with
// timestamps, and close or reset the connection at exact moments.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "server/http/server.h"

namespace corral::http::testing {

using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<std::string> chunks;  // for chunked bodies, each chunk as received

  std::string header(std::string_view name) const;  // first value, "" if absent
  bool has_header(std::string_view name) const;
};

class TestClient {
 public:
  // Connects to 127.0.0.1:port, from `source_ip` when given (any 127.x.y.z works on Linux, so
  // tests can play several client addresses); check ok().
  explicit TestClient(int port, const std::string& source_ip = "");
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool send(std::string_view bytes);
  // Status line and headers only (then read_body/read_chunk).
  std::optional<RawResponse> read_head(std::chrono::milliseconds timeout = 5s);
  // The body per the head's framing. no_body: the request was HEAD.
  bool read_body(RawResponse* r, bool no_body, std::chrono::milliseconds timeout = 5s);
  // A whole response.
  std::optional<RawResponse> read_response(bool no_body = false, std::chrono::milliseconds timeout = 5s);
  // Next chunk of a chunked body; nullopt after the last chunk, on timeout or on error.
  std::optional<std::string> read_chunk(std::chrono::milliseconds timeout = 5s);
  // Waits for the server to close (EOF or reset), discarding data. False on timeout.
  bool wait_closed(std::chrono::milliseconds timeout = 5s);
  // Raw bytes up to and including `until` (e.g. an interim "100 Continue" head).
  std::optional<std::string> read_raw(std::string_view until, std::chrono::milliseconds timeout = 5s);
  // Shuts down the sending side only (FIN; the client can still read).
  void half_close();
  // Closes normally (FIN) / abortively (RST).
  void close();
  void reset();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // reads more into buf_
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline);
  bool read_exact(size_t n, std::string* out, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buf_;
};

// "METHOD target HTTP/1.1" with Host and, when body is non-empty, Content-Length.
std::string make_request(std::string_view method, std::string_view target, std::string_view body = {},
                         std::string_view extra_headers = {});

// Raises the open-file soft limit to at least `n` (up to the hard limit); false if impossible.
bool ensure_fd_limit(size_t n);

// A server on 127.0.0.1, port 0, running on its own thread for the duration of a test.
class ServerHarness {
 public:
  static ServerOptions test_options();
  explicit ServerHarness(ServerOptions options = test_options());
  ~ServerHarness();  // stop(0) and join

  Server& server() { return server_; }
  // listen() + run() on a thread. Routes must be added before.
  bool start();
  int port() const { return server_.port(); }
  // stop(grace) and wait for run() to return; returns how long that took.
  std::chrono::milliseconds stop_and_join(std::chrono::milliseconds grace);

 private:
  Server server_;
  std::thread runner_;
};

}  // namespace corral::http::testing
