#include "server/routes.h"
#include "server/manage/handlers.h"

namespace corral::server {

void register_manage_routes(http::Server& http, ApiContext& ctx) {
  using H = void (*)(ApiContext&, http::Request&&, Writer);
  auto bind = [&ctx](H h) {
    return [&ctx, h](http::Request&& req, Writer w) { h(ctx, std::move(req), std::move(w)); };
  };
  http.route("POST", "/api/create", bind(handle_create));
  http.route("POST", "/api/copy", bind(handle_copy));
  http.route("DELETE", "/api/delete", bind(handle_delete));
  http.route("HEAD", "/api/blobs/:digest", bind(handle_head_blob));
  // Blobs are model files of many GB: their bodies stream to disk instead of into memory.
  http.route_streaming_body("POST", "/api/blobs/:digest",
                            [&ctx](http::Request&& req, std::shared_ptr<http::BodyReader> body, Writer w) {
                              handle_upload_blob(ctx, std::move(req), std::move(body), std::move(w));
                            });
}

}  // namespace corral::server
