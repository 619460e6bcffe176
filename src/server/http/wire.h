// HTTP/1.1 response bytes: status line + headers, chunk framing. Responses are formatted here
// rather than through Beast's serializer so that a stream of small writes can be coalesced
// into one socket write and queued from any thread as plain bytes. (Requests, the hostile
// direction, are parsed by Beast.)
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "server/http/request.h"

namespace corral::http::wire {

// How the end of the response body is shown to the client.
enum class Framing {
  kContentLength,  // whole body known at finish()
  kChunked,        // HTTP/1.1 streaming
  kUntilClose,     // streaming to an HTTP/1.0 client: the body ends when we close
  kNoBody,         // 1xx/204/304: the status forbids a body
};

struct Head {
  int status = 200;
  std::string content_type;  // omitted when empty
  HeaderList headers;        // sanitized by format_head
  Framing framing = Framing::kContentLength;
  size_t content_length = 0;       // for kContentLength
  bool close = false;              // "Connection: close" and close after the response
  bool http10_keep_alive = false;  // HTTP/1.0 clients need an explicit "Connection: keep-alive"
};

// Status line, Date, Content-Type, the caller's headers and the framing headers, ending in the
// blank line. Header names that are not HTTP tokens are dropped and CR/LF/NUL in values become
// spaces, so handler-supplied text can never split the response.
std::string format_head(const Head& head);

// Headers the server owns (framing, connection management); handler copies are dropped.
bool is_managed_header(std::string_view name);
// Whether a response with this status may carry a body (RFC 9110: not 1xx, 204, 304).
bool status_allows_body(int status);
// "OK", "Not Found", ...; "Unknown" for codes without a registered phrase.
std::string_view reason_phrase(int status);
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for the Date header.
std::string http_date(std::chrono::system_clock::time_point t);

// One chunk: "<hex size>\r\n<data>\r\n". Never call with empty data: that is the last chunk.
std::string chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace corral::http::wire
