// Shared bits of the Anthropic Messages API (/v1/messages): Anthropic's error shape, message
// ids and stop reasons. Ollama's compatibility layer (ollama/ollama anthropic/anthropic.go and
// middleware/anthropic.go) is the reference for how each field maps onto Ollama's chat.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "scheduler/job.h"
#include "scheduler/scheduler.h"
#include "server/api_common.h"
#include "server/api_context.h"
#include "server/completion_stream.h"

namespace corral::server::anthropic {

// Anthropic's error type for an HTTP status, as Ollama's anthropic.NewError maps it: 400
// invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error,
// 429 rate_limit_error, 503 (and Anthropic's own 529) overloaded_error, else api_error.
const char* error_type(int status);
// {"type": "error", "error": {"type", "message"}}; Anthropic's errors carry no code.
ordered_json error_body(int status, std::string_view message, const char* code = nullptr);
extern const ErrorShape kErrors;

// "msg_" and 24 random hex digits, as Anthropic's and Ollama's message ids look.
std::string next_message_id();
// A tool_use id from a parsed call's id: "call_xxxxxxxx" -> "toolu_xxxxxxxx" (the suffix stays,
// so a seeded request repeats its ids).
std::string tool_use_id(std::string_view call_id);

}  // namespace corral::server::anthropic
