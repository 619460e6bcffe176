// Each API family registers its routes from its own file, so they grow independently.
#pragma once

#include "server/api_context.h"
#include "server/http/server.h"

namespace corral::server {

// /, /api/version, /api/generate, /api/chat, /api/embed(dings), /api/tags, /api/show, /api/ps
void register_ollama_routes(http::Server& http, ApiContext& ctx);
// /api/create, /api/copy, /api/delete, /api/blobs/:digest (manage/)
void register_manage_routes(http::Server& http, ApiContext& ctx);
// /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /v1/models/{model}
void register_openai_routes(http::Server& http, ApiContext& ctx);
// /v1/messages, /v1/messages/count_tokens (anthropic/)
void register_anthropic_routes(http::Server& http, ApiContext& ctx);
// /api/pull, /api/push and the registry protocol (/v2/...) over the store (registry/)
void register_registry_routes(http::Server& http, ApiContext& ctx);
// GET /metrics (Prometheus text format; metrics_routes.cc)
void register_metrics_routes(http::Server& http, ApiContext& ctx);
// GET /health: 200 when ready, 503 while preloading or draining (health.cc)
void register_health_routes(http::Server& http, ApiContext& ctx);

}  // namespace corral::server
