// A /v1/messages (or /v1/messages/count_tokens) request read into what the shared chat path
// takes, as Ollama's anthropic.FromMessagesRequest maps it: max_tokens is num_predict,
// temperature / top_p / top_k / stop_sequences pass through as options (unset ones keep the
// model's defaults), tools [{name, description, input_schema}] become function tools,
// tool_choice {"type": auto|any|tool|none} the shared ToolChoice, thinking enabled/disabled
// the think option. metadata and fields Anthropic-only features use are ignored.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/api_common.h"
#include "server/chat_output.h"
#include "server/model_resolver.h"
#include "templates/chat_template.h"

namespace corral::server::anthropic {

struct MessagesRequest {
  std::string model;
  bool stream = false;
  ordered_json options = ordered_json::object();  // Ollama "options" for options_for()
  std::vector<std::string> stop_sequences;        // the request's, to tell stop_sequence apart
  std::vector<ChatMessage> messages;              // the system prompt first, when there is one
  nlohmann::json tools;                           // [{"type": "function", "function": {...}}] or null
  ToolChoice choice;
  ThinkOption think;
};

enum class RequestKind {
  kCreate,       // POST /v1/messages: max_tokens required
  kCountTokens,  // POST /v1/messages/count_tokens: no generation fields
};

// Every error is the request's (kInvalidArgument) and names the field.
Result<MessagesRequest> parse_request(const ordered_json& body, RequestKind kind);

// Settles the request against the model it runs on: thinking asked of a model that cannot
// think is dropped, not refused (Ollama's relax_thinking for Anthropic clients such as Claude
// Code, which ask for it by default); then Ollama's capability checks and think default
// (check_capabilities: tools on a model whose template cannot render them is a 400), and
// tool_choice "none" leaves the tools out of the prompt.
Status settle_for_model(const ServedModel& m, MessagesRequest& r);

}  // namespace corral::server::anthropic
