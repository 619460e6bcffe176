// One parsed HTTP request as handlers see it. Plain C++: no Boost type leaks out of
// src/server/http/, so the API layer (and its tests) never include Boost headers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::http {

// Header name/value pairs in wire order (response extras, request headers).
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive comparison: HTTP field names and tokens are case-insensitive.
bool iequals(std::string_view a, std::string_view b);

// Request headers in arrival order with case-insensitive lookup. A vector beats a map here:
// requests carry a dozen headers and handlers look up two or three.
class Headers {
 public:
  void add(std::string name, std::string value);
  // First value of `name`; the view points into this object.
  std::optional<std::string_view> get(std::string_view name) const;
  // First value of `name`, or `fallback` when absent.
  std::string value_or(std::string_view name, std::string_view fallback) const;
  // Every value of a repeated field, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  const HeaderList& list() const { return list_; }
  HeaderList::const_iterator begin() const { return list_.begin(); }
  HeaderList::const_iterator end() const { return list_.end(); }
  size_t size() const { return list_.size(); }

 private:
  HeaderList list_;
};

struct Request {
  std::string method;  // as sent, e.g. "GET" (HEAD requests keep "HEAD" even when routed to GET)
  std::string target;  // raw request-target, e.g. "/api/tags?x=1"
  std::string path;    // percent-decoded path without the query, e.g. "/api/tags"
  std::multimap<std::string, std::string> query;  // decoded query parameters ('+' is a space)
  Headers headers;
  std::string body;         // whole body (Content-Length or chunked), at most max_body_bytes
  std::string remote_addr;  // "ip:port" of the peer
  // Who sent it, when the server requires API keys: the key's tenant name (set by the access
  // middleware, for logs and fairness); "" when keys are off.
  std::string tenant;
  std::map<std::string, std::string> params;  // route captures, e.g. {"digest": "sha256:..."}
  int version = 11;                           // 10 for HTTP/1.0, 11 for HTTP/1.1

  // First value of query parameter `key`.
  std::optional<std::string_view> query_value(std::string_view key) const;
  // Route capture `name`, or "" when the route has no such segment.
  std::string_view param(std::string_view name) const;
};

// Splits a request-target into its decoded path and query. Accepts origin-form ("/a?b"),
// absolute-form ("http://host/a?b", sent to proxies) and "*". Invalid %-escapes are kept
// verbatim rather than rejected: routing then simply finds no match.
void parse_target(std::string_view target, std::string* raw_path, std::string* path,
                  std::multimap<std::string, std::string>* query);
// %XX decoding; plus_is_space for query components (application/x-www-form-urlencoded).
std::string percent_decode(std::string_view s, bool plus_is_space);

}  // namespace corral::http
