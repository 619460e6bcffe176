// A /v1/messages (or /v1/messages/count_tokens) request read into what the shared chat path
// takes, as Ollama's anthropic.FromMessagesRequest maps it: max_tokens is num_predict,
// temperature / top_p / top_k / stop_sequences pass through as options (unset ones keep the
// model's defaults), tools [{name, description, input_schema}] become function tools,
// tool_choice {"type": auto|any|tool|none} the shared ToolChoice, thinking enabled/disabled
// the think option: a ChatRequest (chat_request.h) and the shared path from there. metadata
// and fields Anthropic-only features use are ignored.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/api_common.h"
#include "server/chat_output.h"
#include "server/chat_request.h"
#include "server/model_resolver.h"
#include "templates/chat_template.h"

namespace corral::server::anthropic {

struct MessagesRequest {
  // What the shared chat path runs: the system prompt first in the messages; max_tokens,
  // temperature, top_p, top_k and stop_sequences as options; thinking a model cannot do dropped
  // (drop_unsupported_thinking); a forced call's schema as the format.
  ChatRequest chat;
  std::vector<std::string> stop_sequences;  // the request's, to tell stop_sequence apart
};

enum class RequestKind {
  kCreate,       // POST /v1/messages: max_tokens required
  kCountTokens,  // POST /v1/messages/count_tokens: no generation fields
};

// Every error is the request's (kInvalidArgument) and names the field.
Result<MessagesRequest> parse_request(const ordered_json& body, RequestKind kind);

}  // namespace corral::server::anthropic
