// The request body of a streaming route (Server::route_streaming_body): it is handed over piece
// by piece while it arrives instead of being buffered whole, so an upload of many gigabytes
// (a model blob) costs a few MiB of memory. Plain C++, like request.h.
//
// Flow control: the connection queues at most kHighWater bytes ahead of the reader; beyond that
// it stops reading the socket, so TCP holds back a fast client until the reader catches up.
// A reader that is dropped before the end stops the transfer: the connection then closes after
// its response (the rest of the body is never read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"

namespace corral::http {

class BodyReader {
 public:
  // Bytes the connection buffers ahead of a slow reader before it pauses the socket.
  static constexpr size_t kHighWater = 4u << 20;

  virtual ~BodyReader() = default;

  // Waits for the next piece of the body; call it from a worker thread, never an io thread.
  // Returns a non-empty piece, "" once the whole body has been read (and on every later call),
  // or an error when the body cannot be completed (the client went away or sent malformed
  // chunked framing, or the server is stopping).
  virtual Result<std::string> read() = 0;
  // The announced Content-Length, or -1 for a chunked body.
  virtual int64_t content_length() const = 0;
};

// Runs on an io thread with the request's headers (its `body` is empty) and must not block: it
// hands `body` and the writer to a worker that reads the body and then responds.
using StreamingHandler =
    std::function<void(Request&&, std::shared_ptr<BodyReader> body, std::shared_ptr<ResponseWriter>)>;

}  // namespace corral::http
