// One HTTP request to a registry, over libcurl. Plain C++ outside: no curl type leaks out.
//
// Any HTTP status is a Response (callers decide what a 404 means); transport failures (DNS,
// refused, reset, stalled, cancelled) are errors. Response bodies are either kept in memory,
// bounded (manifests, error texts), or streamed to a sink (blobs) - never both, so a hostile
// registry cannot make the client buffer gigabytes.
//
// Redirects are followed (Ollama's registry sends blob downloads to a CDN), http/https only.
// Loopback addresses never go through a proxy from the environment, as with Go's
// ProxyFromEnvironment, so a registry on 127.0.0.1 works behind a corporate proxy setting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace corral::registry {

struct HttpResponse;

// How long a transfer may go without a byte moving before it fails. 60 s: far longer than any
// pause a working registry or CDN makes (Ollama already calls a part stalled after 30 s), short
// enough that a dead transfer is reported while someone still waits for it.
inline constexpr std::chrono::milliseconds kDefaultStallTimeout{60'000};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;

  // The request body: `body` in memory, or `upload_size` bytes of the file `upload_fd` from
  // `upload_offset` (blob uploads; read with pread, the fd's position is not used).
  std::string body;
  int upload_fd = -1;
  int64_t upload_offset = 0;
  int64_t upload_size = 0;

  // Bodies of responses are kept up to this many bytes; more is an error ("response too large").
  int64_t max_response_bytes = 1 << 20;
  // When set, the body of a 2xx response goes here instead (as it arrives), with the response
  // head (status, headers) for reference; returning false stops the transfer without an error
  // (HttpResponse::stopped). Non-2xx bodies are still kept (bounded) for the error message.
  std::function<bool(const HttpResponse& head, std::string_view data)> sink;

  // Checked while the transfer runs (at least once a second): true aborts it with an error.
  const std::atomic<bool>* cancel = nullptr;
  // A transfer during which no byte arrives (or leaves, for a body being sent) for this long
  // fails, and `*stalled` (when set) becomes true. A slow but steady transfer never does.
  std::chrono::milliseconds stall_timeout = kDefaultStallTimeout;
  bool* stalled = nullptr;
  long connect_timeout_s = 30;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // final response; names lower-case
  std::string body;
  bool stopped = false;  // the sink asked to stop

  // First value of a header (name case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

Result<HttpResponse> http_perform(const HttpRequest& request);

// A short, printable excerpt of a response body for error messages (registries answer errors
// in JSON or HTML; neither may flood a progress line).
std::string body_excerpt(std::string_view body);

}  // namespace corral::registry
