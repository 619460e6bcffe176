// Anthropic's Messages API (docs.anthropic.com/en/api/messages), as Ollama serves it since
// 2026-01, one handler per endpoint. Every error uses Anthropic's shape (anthropic/common.h).
#pragma once

#include "server/api_common.h"
#include "server/api_context.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"

namespace corral::server::anthropic {

void handle_messages(ApiContext& ctx, http::Request&& req, Writer w);      // POST /v1/messages
void handle_count_tokens(ApiContext& ctx, http::Request&& req, Writer w);  // POST /v1/messages/count_tokens

}  // namespace corral::server::anthropic
