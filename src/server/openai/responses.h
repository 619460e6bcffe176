// POST /v1/responses: OpenAI's Responses API, stateless as Ollama serves it. A request becomes
// the same chat job /api/chat and /v1/chat/completions run (responses_request.h reads it); the
// answer is a "response" object or its stream of events (responses_stream.h).
#pragma once

#include "server/api_common.h"
#include "server/api_context.h"
#include "server/http/request.h"

namespace corral::server::openai {

void handle_responses(ApiContext& ctx, http::Request&& req, Writer w);  // POST /v1/responses

}  // namespace corral::server::openai
