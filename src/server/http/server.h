// The HTTP/1.1 server the Ollama and OpenAI API handlers plug into (Boost.Asio + Beast inside,
// plain C++ outside).
//
// Threading: io_threads threads run every connection's I/O; each connection is confined to
// one strand, so its handler calls and socket operations never overlap. Waiting requests
// cost no thread: a handler returns at once and a worker later writes through the
// ResponseWriter it kept. Thousands of idle or pending connections are just sockets, a timer
// and a small buffer each.
//
// Per connection: keep-alive per HTTP/1.1 (Connection: close and HTTP/1.0 honoured); pipelined
// requests are answered one after another; Expect: 100-continue is answered; request bodies
// may be Content-Length or chunked. Errors answered by the server itself, all with a JSON
// {"error": ...} body: 400 malformed request (then close), 413 body over max_body_bytes,
// 431 header over max_header_bytes, 503 over max_connections_per_ip (then close), 404 unknown
// path, 405 known path with another method (with Allow), 500 when a handler throws. Routes added with route_streaming_body() get their
// body piece by piece while it arrives, without size limit (body_reader.h). A client that closes (or half-closes) its side while
// its response is pending counts as gone, as in Go's net/http (and so Ollama).
//
// Usage:
//   http::Server server({.port = 11434});
//   server.route("GET", "/api/tags", [](const http::Request& req, auto w) { w->respond(...); });
//   if (auto st = server.listen(); !st) ...;
//   std::thread signals([&] { wait_for_signal(); server.stop(5s); });
//   server.run();  // returns after stop()
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/http/body_reader.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"

namespace corral::http {

namespace detail {
class ServerCore;  // server_core.h: the Boost side
}

// Runs on an io thread and must not block: long work goes to another thread that holds the
// writer. The request is passed as an rvalue, so a handler may take `const Request&` or take
// ownership with `Request` (e.g. to move a large body to a worker).
using Handler = std::function<void(Request&&, std::shared_ptr<ResponseWriter>)>;
// Runs before routing on every request. Return true when it answered the request itself (e.g.
// an OPTIONS preflight or a 403); it may also add_header() to the writer (CORS) or fill in
// request fields (Request::tenant) and return false.
using Middleware = std::function<bool(Request&, const std::shared_ptr<ResponseWriter>&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";  // address or name; "0.0.0.0" / "::" for all interfaces
  int port = 11434;                // 0 = any free port (see Server::port())
  int io_threads = 2;
  size_t max_body_bytes = 32u << 20;    // larger bodies get 413
  size_t max_header_bytes = 64u << 10;  // request line + headers; larger get 431
  // Closes a connection that waits this long for (the rest of) a request, or whose client
  // accepts no response bytes for this long. Time spent waiting for the handler never counts.
  int idle_timeout_s = 300;
  // The request line and headers must arrive within this many seconds, counted from the
  // connection's accept for its first request and from the first byte for later ones (as Go's
  // ReadHeaderTimeout): a client trickling a header (slowloris) is closed. Idle keep-alive
  // connections between requests still get idle_timeout_s.
  int header_timeout_s = 10;
  int max_connections = 4096;  // further connections are accepted and closed at once
  // Open connections one client address may hold; past it a connection gets 503 and is closed,
  // so one client cannot take all max_connections from everyone else.
  int max_connections_per_ip = 256;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  // Call only when run() is not running (after it returned, or if it never ran). Connections
  // still open are closed; writers held elsewhere stay valid and report client_gone().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a route (before run()). `pattern`: exact segments, ":name" captures and a trailing
  // "*name" catch-all, e.g. "/api/blobs/:digest". HEAD uses the GET route with the body
  // dropped (Content-Length kept) unless a HEAD route exists.
  void route(std::string method, std::string pattern, Handler handler);
  // A route whose handler runs as soon as the request's header is in and reads the body from a
  // BodyReader while it arrives (uploads too large for max_body_bytes). Matched before the
  // buffered routes for the same method and path.
  void route_streaming_body(std::string method, std::string pattern, StreamingHandler handler);
  // Replaces the default 404 {"error":"not found"} (before run()).
  void set_not_found(Handler handler);
  void set_middleware(Middleware middleware);

  // Binds and listens; an error Status (e.g. "address already in use") on failure.
  Status listen();
  // The bound port (useful with port 0); 0 before listen().
  int port() const;
  // The bound address ("127.0.0.1", "::", ...); "" before listen().
  std::string local_address() const;
  // Serves until stop(): runs io_threads threads, the caller being one of them.
  void run();
  // Stops accepting, closes idle connections, lets in-flight responses finish for up to
  // `grace`, then closes everything (writers report client_gone()); run() then returns.
  // Thread-safe, callable from any thread (e.g. a signal-watching one), idempotent. Not
  // async-signal-safe: do not call it from a signal handler itself.
  void stop(std::chrono::milliseconds grace);

  // Open connections right now (for metrics and tests).
  size_t connection_count() const;

 private:
  std::shared_ptr<detail::ServerCore> core_;  // shared with connections and writers that may outlive us
};

}  // namespace corral::http
