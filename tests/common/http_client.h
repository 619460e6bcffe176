// A small blocking HTTP client for the server tests (libcurl): JSON requests, streaming with a
// callback per received chunk, and aborting a stream midway (a client that disconnects).
#pragma once

#include <functional>
#include <map>
#include <string>

namespace corral::testing {

struct HttpResponse {
  long status = 0;  // 0: no response (connection failed or aborted)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // transport error, if any
};

// `on_data` receives body bytes as they arrive; returning false aborts the transfer (the
// client closes the connection).
HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body = "",
                          std::function<bool(const std::string&)> on_data = nullptr, long timeout_s = 120);

inline HttpResponse http_get(const std::string& url) { return http_request("GET", url); }
inline HttpResponse http_post(const std::string& url, const std::string& body) {
  return http_request("POST", url, body);
}

}  // namespace corral::testing
