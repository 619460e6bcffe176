#include "server/routes.h"
#include "server/openai/handlers.h"
#include "server/openai/responses.h"

namespace corral::server {

void register_openai_routes(http::Server& http, ApiContext& ctx) {
  using H = void (*)(ApiContext&, http::Request&&, Writer);
  auto bind = [&ctx](H h) {
    return [&ctx, h](http::Request&& req, Writer w) { h(ctx, std::move(req), std::move(w)); };
  };
  http.route("POST", "/v1/chat/completions", bind(openai::handle_chat_completions));
  http.route("POST", "/v1/completions", bind(openai::handle_completions));
  http.route("POST", "/v1/responses", bind(openai::handle_responses));
  http.route("POST", "/v1/embeddings", bind(openai::handle_embeddings));
  // Registered before the catch-all, which also matches "/v1/models" with an empty name.
  http.route("GET", "/v1/models", bind(openai::handle_list_models));
  http.route("GET", "/v1/models/*name", bind(openai::handle_retrieve_model));
}

}  // namespace corral::server
