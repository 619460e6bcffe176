// Optional API keys (CORRAL_API_KEYS). When set, every request except GET/HEAD / and
// GET/HEAD /api/version must carry "Authorization: Bearer <key>" (what the OpenAI and Anthropic
// SDKs send for their api_key, and ollama-js for headers: {Authorization: ...}); others get 401.
//
// CORRAL_API_KEYS is either a comma-separated list of keys ("k1,k2") or, when it starts with
// '/', '.' or '~/', the path of a file with one "key [tenant-name]" per line ('#' starts a
// comment line). A key's tenant names who is calling in logs (and later for fair scheduling);
// keys given without one are called key1, key2, ... by position.
//
// Keys are compared as SHA-256 digests in constant time, against every configured key, so the
// time taken says nothing about how much of a guess was right or which key it was close to.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/http/request.h"

namespace corral::server {

class ApiKeys {
 public:
  ApiKeys() = default;  // no keys: nothing is required
  // From CORRAL_API_KEYS's value (see above); an empty value means no keys. Errors name the
  // file or line that is wrong; no key text is ever put in an error.
  static Result<ApiKeys> parse(std::string_view setting);
  // From the text of a keys file (`source` names it in errors).
  static Result<ApiKeys> parse_file_text(std::string_view text, std::string_view source);

  bool enabled() const { return !keys_.empty(); }
  size_t size() const { return keys_.size(); }
  // The tenant of the key `presented`, or nullopt when it is no configured key.
  std::optional<std::string> tenant_of(std::string_view presented) const;
  // Every key's tenant name, each once (the fairness metrics label them).
  std::vector<std::string> tenants() const;

 private:
  struct Key {
    std::string digest;  // SHA-256 of the key, "sha256:<hex>"
    std::string tenant;
  };
  Status add(std::string_view key, std::string tenant);
  std::vector<Key> keys_;
};

// Requests that need no key: GET or HEAD of /, /api/version and /health (health checks, version
// probes, readiness).
bool exempt_from_api_key(std::string_view method, std::string_view path);
// The token of "Authorization: Bearer <token>" (scheme case-insensitive); nullopt otherwise.
std::optional<std::string_view> bearer_token(const http::Headers& headers);
// The request's API key: the bearer token, else Anthropic's "x-api-key" header.
std::optional<std::string_view> api_key_token(const http::Headers& headers);

// The 401 body in the shape the path's clients parse: OpenAI's {"error": {...}} under /v1/,
// Anthropic's {"type": "error", ...} for /v1/messages, Ollama's {"error": "..."} elsewhere.
std::string unauthorized_body(std::string_view path, std::string_view message);

}  // namespace corral::server
