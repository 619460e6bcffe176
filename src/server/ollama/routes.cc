#include "server/routes.h"
#include "server/ollama/handlers.h"

namespace corral::server {

void register_ollama_routes(http::Server& http, ApiContext& ctx) {
  using H = void (*)(ApiContext&, http::Request&&, Writer);
  auto bind = [&ctx](H h) {
    return [&ctx, h](http::Request&& req, Writer w) { h(ctx, std::move(req), std::move(w)); };
  };
  auto running = [](http::Request&&, Writer w) { w->respond(200, "text/plain; charset=utf-8", "Ollama is running"); };
  http.route("GET", "/", running);
  http.route("HEAD", "/", running);
  http.route("GET", "/api/version", bind(handle_version));
  http.route("GET", "/api/tags", bind(handle_tags));
  http.route("POST", "/api/show", bind(handle_show));
  http.route("GET", "/api/ps", bind(handle_ps));
  http.route("POST", "/api/generate", bind(handle_generate));
  http.route("POST", "/api/chat", bind(handle_chat));
  http.route("POST", "/api/embed", bind(handle_embed));
  http.route("POST", "/api/embeddings", bind(handle_embeddings));
}

}  // namespace corral::server
