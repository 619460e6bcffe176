// The producer side of one HTTP response. Handlers get a std::shared_ptr<ResponseWriter> and may
// hand it to any thread (a generation worker, a download thread); every method is thread-safe.
//
// Life cycle: add_header()* -> start() -> write()* -> finish(), or respond() for all of it.
//   chunked=true  streams: each write() goes out as one chunk (Transfer-Encoding: chunked) as
//                 soon as the connection can take it; several queued writes are coalesced.
//   chunked=false buffers write()s and sends them with Content-Length at finish().
// The writer keeps its connection alive until finish() or until the client is gone. Dropping the
// last reference without finish() closes the connection (a 500 is sent if nothing was started),
// so a forgotten writer never hangs a client.
//
// Disconnects: the server watches the socket the whole time a response is pending or streaming,
// so client_gone() turns true (and on_client_gone callbacks run) within milliseconds of the peer
// closing or resetting - also while the request still waits in a queue and nothing was written.
// That is how generation gets cancelled within one engine step.
//
// The class is abstract so API handlers can be unit-tested against MemoryResponseWriter
// (memory_writer.h) without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "server/http/request.h"

namespace corral::http {

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // Adds a header to the response before start() (e.g. CORS headers from middleware).
  // Ignored once started. Framing headers (Content-Length, Transfer-Encoding, Connection) are
  // the server's and are dropped.
  virtual void add_header(std::string name, std::string value) = 0;
  // Sends the status line and headers (for chunked=false they are held until finish(), which
  // knows the length). A second start() is a programming error: logged and ignored.
  virtual void start(int status, std::string content_type, HeaderList extra_headers = {}, bool chunked = false) = 0;
  // Streams a body whose length is known before it is produced (a file, or a byte range of
  // one): the head goes out at once with Content-Length: content_length and each write() is
  // sent as it comes, without chunk framing, so a multi-GB body never sits in memory. Bytes past
  // content_length are dropped; finish() before content_length bytes were written closes the
  // connection, which tells the client the body is incomplete. A HEAD request gets the head
  // only. The default, for writers that only record, is a chunked start().
  virtual void start_sized(int status, std::string content_type, uint64_t content_length,
                           HeaderList extra_headers = {});
  // Queues body bytes; never blocks. Returns false (dropping the data) once the client is
  // gone, before start() and after finish(). Empty data is a no-op.
  virtual bool write(std::string data) = 0;
  // Ends the response; the connection may then serve the next keep-alive request. finish()
  // without start() sends an empty 200. Idempotent.
  virtual void finish() = 0;

  // The peer closed or reset the connection (or the server shut it down).
  virtual bool client_gone() const = 0;
  // Runs `callback` once when the client goes away - on an io thread, so it must not block
  // (set a cancel flag, notify a condition variable). Runs it immediately on the calling
  // thread if the client is already gone. Callbacks are not run for a response that finished
  // normally.
  virtual void on_client_gone(std::function<void()> callback) = 0;
  // Bytes accepted by write() but not yet handed to the socket: a slow reader makes this grow
  // (the queue is unbounded so producers never block); producers may throttle on it.
  virtual size_t queued_bytes() const = 0;
  virtual bool started() const = 0;

  // start() + write() + finish() with a Content-Length body.
  void respond(int status, std::string content_type, std::string body, HeaderList extra_headers = {});
  // respond() with the API's error shape: {"error": "<message>"}.
  void respond_error(int status, std::string_view message);
};

// {"error":"<message>"} with the message JSON-escaped; the body of every API error.
std::string json_error_body(std::string_view message);
// JSON string literal (with quotes) for `s`; control characters escaped, UTF-8 passed through.
std::string json_quote(std::string_view s);
// One server-sent event: an optional "event:" line, then one "data:" line per line of `data`,
// then the blank line that ends the event (text/event-stream).
std::string sse_event(std::string_view data, std::string_view event = {});

}  // namespace corral::http
