// Routes of the registry side (service.h).
#include <memory>

#include "server/registry/service.h"
#include "server/routes.h"

namespace corral::server {

void register_registry_routes(http::Server& http, ApiContext& ctx) {
  auto svc = std::make_shared<RegistryService>(ctx.store);
  using H = void (*)(const Service&, http::Request&&, Writer);
  auto bind = [&svc](H h) { return [svc, h](http::Request&& req, Writer w) { h(svc, std::move(req), std::move(w)); }; };

  http.route("POST", "/api/pull", bind(handle_pull));
  http.route("POST", "/api/push", bind(handle_push));

  // Docker registry v2, read side (HEAD falls back to the GET routes).
  http.route("GET", "/v2/", bind(handle_v2_root));
  http.route("GET", "/v2", bind(handle_v2_root));
  http.route("GET", "/v2/:ns/:model/manifests/:tag", bind(handle_get_manifest));
  http.route("GET", "/v2/:ns/:model/blobs/:digest", bind(handle_get_blob));
  // Write side, for push.
  http.route("POST", "/v2/:ns/:model/blobs/uploads/", bind(handle_upload_start));
  http.route("POST", "/v2/:ns/:model/blobs/uploads", bind(handle_upload_start));
  http.route("PATCH", "/v2/:ns/:model/blobs/uploads/:id", bind(handle_upload_patch));
  http.route("PUT", "/v2/:ns/:model/blobs/uploads/:id", bind(handle_upload_finish));
  http.route("GET", "/v2/:ns/:model/blobs/uploads/:id", bind(handle_upload_status));
  http.route("DELETE", "/v2/:ns/:model/blobs/uploads/:id", bind(handle_upload_cancel));
  http.route("PUT", "/v2/:ns/:model/manifests/:tag", bind(handle_put_manifest));
}

}  // namespace corral::server
