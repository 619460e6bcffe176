// OpenAI's API (platform.openai.com/docs/api-reference), the subset Ollama serves under /v1,
// one handler per endpoint. Every error uses OpenAI's shape (openai/common.h).
#pragma once

#include "server/api_common.h"
#include "server/api_context.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"

namespace corral::server::openai {

void handle_chat_completions(ApiContext& ctx, http::Request&& req, Writer w);  // POST /v1/chat/completions
void handle_completions(ApiContext& ctx, http::Request&& req, Writer w);       // POST /v1/completions
void handle_embeddings(ApiContext& ctx, http::Request&& req, Writer w);        // POST /v1/embeddings
void handle_list_models(ApiContext& ctx, http::Request&& req, Writer w);       // GET /v1/models
void handle_retrieve_model(ApiContext& ctx, http::Request&& req, Writer w);    // GET /v1/models/*name

}  // namespace corral::server::openai
