// Ollama's HTTP API (docs/api.md), one handler per endpoint.
#pragma once

#include <memory>

#include "server/api_common.h"
#include "server/api_context.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"
#include "templates/chat_template.h"

namespace corral::server {

void handle_generate(ApiContext& ctx, http::Request&& req, Writer w);    // POST /api/generate
void handle_chat(ApiContext& ctx, http::Request&& req, Writer w);        // POST /api/chat
void handle_embed(ApiContext& ctx, http::Request&& req, Writer w);       // POST /api/embed
void handle_embeddings(ApiContext& ctx, http::Request&& req, Writer w);  // POST /api/embeddings (legacy)
void handle_tags(ApiContext& ctx, http::Request&& req, Writer w);        // GET /api/tags
void handle_show(ApiContext& ctx, http::Request&& req, Writer w);        // POST /api/show
void handle_ps(ApiContext& ctx, http::Request&& req, Writer w);          // GET /api/ps
void handle_version(ApiContext& ctx, http::Request&& req, Writer w);     // GET /api/version

// Empty prompt / no messages: load the model (done_reason "load"), or with keep_alive 0
// unload it ("unload"). `record` builds the response body for a done_reason.
void load_or_unload(ApiContext& ctx, const ServedModel& m, std::optional<scheduler::KeepAlive> keep_alive, Writer w,
                    std::function<ordered_json(const char* done_reason)> record);

}  // namespace corral::server
