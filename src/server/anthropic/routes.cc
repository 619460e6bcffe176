#include "server/routes.h"
#include "server/anthropic/handlers.h"

namespace corral::server {

void register_anthropic_routes(http::Server& http, ApiContext& ctx) {
  using H = void (*)(ApiContext&, http::Request&&, Writer);
  auto bind = [&ctx](H h) {
    return [&ctx, h](http::Request&& req, Writer w) { h(ctx, std::move(req), std::move(w)); };
  };
  http.route("POST", "/v1/messages", bind(anthropic::handle_messages));
  http.route("POST", "/v1/messages/count_tokens", bind(anthropic::handle_count_tokens));
}

}  // namespace corral::server
