// A /v1/responses request read into what a chat job needs, as Ollama's FromResponsesRequest
// maps it (ollama/ollama openai/responses.go): `instructions` is a leading system message,
// `input` a string (one user message) or a list of items (messages with text parts,
// function_call items merged into the assistant message before them, function_call_output
// items as tool messages, reasoning items as the next assistant message's thinking), function
// tools ({"type": "function", "name", "parameters"}) in the chat API's nested shape,
// max_output_tokens as num_predict, temperature and top_p defaulting to OpenAI's 1.0,
// text.format as structured output and reasoning.effort as think.
//
// Beyond Ollama: tool_choice (auto / none / required / {"type": "function", "name"}), which
// Ollama leaves out; clear 400s for what a stateless server cannot do (previous_response_id,
// conversation, item_reference items, background) and for input it cannot read (images, files,
// hosted tools), where Ollama ignores or fails later.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/api_common.h"
#include "server/chat_output.h"
#include "server/chat_request.h"
#include "templates/chat_template.h"

namespace corral::server::openai {

struct ResponsesRequest {
  // What the shared chat path runs: instructions first in the messages, then the input items;
  // function tools in the chat API's nested shape; text.format as a response_format (a forced
  // call's schema when tool_choice forces one); reasoning.effort as think; max_output_tokens,
  // temperature, top_p and seed as options.
  ChatRequest chat;

  // Echoed in the response object, as OpenAI and Ollama echo them.
  ordered_json echo_instructions;       // the instructions string, or null
  ordered_json echo_tools;              // the request's tools as sent (Responses shape), [] when none
  ordered_json echo_tool_choice;        // "auto" unless the request named one
  ordered_json echo_text_format;        // {"type": "text"} unless text.format was set
  ordered_json echo_reasoning;          // {"effort", "summary"} when either was set, else null
  ordered_json echo_max_output_tokens;  // the number, or null
  ordered_json echo_metadata;           // the request's metadata object, {} when none
  double temperature = 1.0;
  double top_p = 1.0;
  bool parallel_tool_calls = true;
  std::string truncation = "disabled";
};

// Reads a request body (a JSON object). Every error is the request's fault (a 400) and names
// the field or item it is about ("input[2]: ...").
Result<ResponsesRequest> parse_responses_request(const ordered_json& body);

}  // namespace corral::server::openai
