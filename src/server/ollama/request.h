// The fields Ollama's inference endpoints share, read once and the same way for /api/generate,
// /api/chat, /api/embed and /api/embeddings (each endpoint reads only its own extra fields), and
// the one resolve step that turns the model name and options into what a job needs.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "scheduler/config.h"
#include "server/api_common.h"
#include "server/api_context.h"
#include "server/chat_request.h"
#include "server/model_resolver.h"
#include "server/request_options.h"
#include "templates/chat_template.h"

namespace corral::server {

enum class OllamaEndpoint { kGenerate, kChat, kEmbed, kEmbeddings };

struct OllamaRequest {
  std::string model;
  bool stream = true;                              // generate, chat
  std::optional<scheduler::KeepAlive> keep_alive;  // absent: the server's OLLAMA_KEEP_ALIVE
  ordered_json options;                            // null or an object ("options")
  ordered_json format;                             // generate, chat: null, "json" or a JSON schema
  ThinkOption think;                               // generate, chat: a boolean or a level
  int top_logprobs = -1;                           // generate, chat: -1 without "logprobs"; else alternatives per token
};

// Type errors name the field ("think must be a boolean or a string"); nothing is resolved yet.
Result<OllamaRequest> parse_ollama_request(const ordered_json& body, OllamaEndpoint endpoint);

// /api/chat and /api/generate read into the shared ChatRequest (chat_request.h): the fields
// above, then each endpoint's own (chat: messages, tools, and OpenAI's tool_choice, which corral
// accepts here too; generate: prompt, suffix, system, template, context, raw). Every error is
// the request's (a 400) and names the field.
Result<ChatRequest> parse_chat_request(const ordered_json& body);
Result<ChatRequest> parse_generate_request(const ordered_json& body);

// Layers the request's options over the model's PARAMETERs (a broken PARAMETER is the server's
// 500, a bad request option a 400). On failure it has answered the error and returns nullopt.
std::optional<RequestOptions> options_or_respond(const ServedModel& m, const OllamaRequest& r, const Writer& w);

}  // namespace corral::server
