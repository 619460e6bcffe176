// Which web pages may call the API from a browser: Ollama's CORS policy (server/routes.go, the
// gin-contrib/cors config in GenerateRoutes, and envconfig.AllowedOrigins).
//
// Allowed origins: OLLAMA_ORIGINS (comma-separated) plus the defaults http(s)://localhost,
// 127.0.0.1 and 0.0.0.0 with or without any port, app://*, file://*, tauri://*,
// vscode-webview://* and vscode-file://*. A pattern may hold one '*' (any run of characters
// there); "*" alone allows every origin.
//
// A request whose Origin is its own host (http(s)://<Host>) is not cross-origin and passes. A
// cross-origin request from an allowed origin gets Access-Control-Allow-Origin (and
// Vary: Origin); an OPTIONS preflight from one is answered 204 with the allowed methods and
// headers. Any other Origin gets 403, before the request reaches a handler.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace corral::server {

class OriginPolicy {
 public:
  // `ollama_origins`: OLLAMA_ORIGINS's value (surrounding spaces and quotes already trimmed, as
  // Ollama's envconfig.Var does). Errors name a pattern Ollama would also refuse at startup:
  // more than one '*', or no '*' and no http://, https:// or browser-extension scheme.
  static Result<OriginPolicy> create(std::string_view ollama_origins);

  bool allow_all() const { return allow_all_; }
  bool allows(std::string_view origin) const;
  // Every pattern, OLLAMA_ORIGINS's first (for the startup log).
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
  std::vector<std::string> exact_;                             // lowercased
  std::vector<std::pair<std::string, std::string>> wildcard_;  // text before and after the '*'
  bool allow_all_ = false;
};

// Ollama's defaults, in its order.
std::vector<std::string> default_allowed_origins();

// What gin-contrib/cors answers; the headers are Ollama's AllowHeaders in Go's canonical form.
inline constexpr std::string_view kCorsAllowMethods = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS";
extern const std::string_view kCorsAllowHeaders;
// 12 h: gin-contrib/cors's DefaultConfig MaxAge, which Ollama keeps.
inline constexpr std::string_view kCorsMaxAge = "43200";

}  // namespace corral::server
