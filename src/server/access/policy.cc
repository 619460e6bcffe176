#include "server/access/policy.h"
#include "base/quote.h"

#include <spdlog/spdlog.h>

#include "server/request_log.h"

namespace corral::server {
namespace {

// gin-contrib/cors: an Origin naming the request's own Host is not a cross-origin request
// (fetch() sends Origin on same-origin POSTs too).
bool same_origin(std::string_view origin, std::string_view host) {
  return (origin.starts_with("http://") && origin.substr(7) == host) ||
         (origin.starts_with("https://") && origin.substr(8) == host);
}

// Answers the request and returns true when the origin check ends it; otherwise adds the CORS
// headers an allowed cross-origin request gets.
bool check_origin(const http::Request& req, const std::shared_ptr<http::ResponseWriter>& w, const OriginPolicy& p) {
  auto origin = req.headers.get("Origin");
  if (!origin || origin->empty()) return false;  // not a browser's cross-origin request
  if (same_origin(*origin, req.headers.value_or("Host", ""))) return false;
  if (!p.allows(*origin)) {
    spdlog::info("http: {} {} from {}: origin {} not allowed (OLLAMA_ORIGINS); 403", req.method, quote_text(req.path),
                 req.remote_addr, quote_text(*origin));
    w->respond_error(
        403, fmt::format("origin {} is not allowed; add it to OLLAMA_ORIGINS to allow it", quote_text(*origin)));
    return true;
  }
  const std::string allow_origin = p.allow_all() ? "*" : std::string(*origin);
  if (req.method == "OPTIONS") {
    http::HeaderList h = {{"Access-Control-Allow-Methods", std::string(kCorsAllowMethods)},
                          {"Access-Control-Allow-Headers", std::string(kCorsAllowHeaders)},
                          {"Access-Control-Max-Age", std::string(kCorsMaxAge)}};
    if (!p.allow_all()) {
      h.emplace_back("Vary", "Origin");
      h.emplace_back("Vary", "Access-Control-Request-Method");
      h.emplace_back("Vary", "Access-Control-Request-Headers");
    }
    h.emplace_back("Access-Control-Allow-Origin", allow_origin);
    w->respond(204, "", "", std::move(h));
    return true;
  }
  if (!p.allow_all()) w->add_header("Vary", "Origin");
  w->add_header("Access-Control-Allow-Origin", allow_origin);
  return false;
}

bool check_host_header(const http::Request& req, const std::shared_ptr<http::ResponseWriter>& w, const HostPolicy& p) {
  const std::string host = req.headers.value_or("Host", "");
  switch (check_host(host, p)) {
    case HostVerdict::kAllowed: return false;
    case HostVerdict::kAllowedName:
      if (req.method == "OPTIONS") {
        w->respond(204, "", "");
        return true;
      }
      return false;
    case HostVerdict::kForbidden: break;
  }
  spdlog::info("http: {} {} from {}: Host {} not allowed for a server bound to loopback; 403", req.method,
               quote_text(req.path), req.remote_addr, quote_text(host));
  w->respond_error(403, fmt::format("host {} is not allowed: this server answers only to local names and "
                                    "addresses (bind it to a non-loopback address with OLLAMA_HOST to serve others)",
                                    host));
  return true;
}

bool check_api_key(http::Request& req, const std::shared_ptr<http::ResponseWriter>& w, const ApiKeys& keys) {
  if (!keys.enabled() || exempt_from_api_key(req.method, req.path)) return false;
  auto token = api_key_token(req.headers);
  std::optional<std::string> tenant;
  if (token) tenant = keys.tenant_of(*token);
  if (tenant) {
    req.tenant = std::move(*tenant);
    return false;
  }
  const char* message = token ? "invalid API key"
                              : "missing API key: this server requires \"Authorization: Bearer <key>\" "
                                "with one of the keys in its CORRAL_API_KEYS";
  spdlog::info("http: {} {} from {}: {}; 401", req.method, req.path, req.remote_addr,
               token ? "invalid API key" : "no API key");
  w->respond(401, "application/json; charset=utf-8", unauthorized_body(req.path, message),
             {{"WWW-Authenticate", "Bearer"}});
  return true;
}

}  // namespace

http::Middleware make_access_middleware(std::shared_ptr<const AccessPolicy> policy) {
  return [policy = std::move(policy)](http::Request& req, const std::shared_ptr<http::ResponseWriter>& w) {
    if (check_origin(req, w, policy->origins)) return true;
    if (check_host_header(req, w, policy->hosts)) return true;
    if (check_api_key(req, w, policy->keys)) return true;
    log_access(req);
    return false;
  };
}

}  // namespace corral::server
