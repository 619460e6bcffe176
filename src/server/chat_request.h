// One chat-style request, whichever API it came through: Ollama's /api/chat and /api/generate,
// OpenAI's /v1/chat/completions and /v1/responses, Anthropic's /v1/messages. Each family's parser
// reads its own body shape into a ChatRequest (as llama.cpp's server turns an OpenAI body into
// its native request), and the shared path (chat_jobs.h) takes it from there: resolve the
// model, check it can serve the request, layer the options, compile the structured output,
// render and tokenize the prompt and read the output back. Only the response's shape is the
// family's again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler/config.h"
#include "server/api_common.h"
#include "server/chat_output.h"
#include "templates/chat_template.h"

namespace corral::server {

// Structured output as the request spelled it; the shared path compiles it
// (sampling/structured_output.h). A tool_choice that forces a call has already put the call's
// schema here (forced_call_schema), in the family's syntax.
struct OutputFormat {
  enum class Syntax {
    kOllama,          // Ollama's format: null, "", "json" or a JSON schema
    kResponseFormat,  // OpenAI's response_format: {"type": "text" | "json_object" | "json_schema", ...}
  };
  Syntax syntax = Syntax::kOllama;
  ordered_json value;  // null: free text
};

// /api/generate's prompt, in place of messages. Default member initializers let the parser
// name only the fields it sets.
struct GenerateInput {
  std::string prompt = {};
  std::string suffix = {};                            // non-empty: fill-in-the-middle (needs insert)
  std::optional<std::string> system = {};             // absent: the model's SYSTEM
  std::optional<std::string> template_override = {};  // the request's own template text
  std::vector<int32_t> context = {};                  // tokens of an earlier exchange (Ollama's `context`)
  bool raw = false;                                   // the prompt is the whole model input
};

struct ChatRequest {
  std::string model;                               // the name the request used (errors and answers repeat it)
  bool stream = false;                             // the family's default: Ollama true, the others false
  std::optional<scheduler::KeepAlive> keep_alive;  // absent: the server's OLLAMA_KEEP_ALIVE
  ordered_json options = ordered_json::object();   // Ollama "options", layered over the model's PARAMETERs
  std::vector<ChatMessage> messages;               // a family's separate system prompt comes first
  std::optional<GenerateInput> generate;           // /api/generate: a prompt instead of messages
  nlohmann::json tools;                            // null, or [{"type": "function", "function": {...}}]
  ToolChoice tool_choice;                          // auto unless asked (forces_call: a constrained call)
  ThinkOption think;
  // Thinking asked of a model that cannot think is dropped rather than refused (Ollama relaxes
  // it for Anthropic clients such as Claude Code, which ask for it by default).
  bool drop_unsupported_thinking = false;
  OutputFormat format;
  int top_logprobs = -1;  // -1: no logprobs; else the alternatives per generated token
  // Choices to generate for the one prompt (OpenAI's n): each its own job, with seed + choice
  // when the request set a seed; the engine prefills the shared prompt once.
  int n = 1;
  bool include_usage = false;  // OpenAI's stream_options.include_usage

  // "generate" or "chat": the capability a model must have to serve the request.
  const char* kind() const { return generate ? "generate" : "chat"; }
};

}  // namespace corral::server
