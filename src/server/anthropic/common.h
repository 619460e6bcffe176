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
// {"type": "error", "error": {"type", "message"}}
ordered_json error_body(int status, std::string_view message);
void respond_error(const Writer& w, int status, const std::string& message);
// An error Status in Anthropic's shape, with the HTTP status its code maps to.
void respond_status(const Writer& w, const Status& status);
// Queue full: the scheduler's 503 (as Ollama passes it through; the SDK retries 503 as it does
// Anthropic's 529) with an overloaded_error body and Retry-After.
void respond_rejection(const Writer& w, const scheduler::Rejection& r);
extern const ErrorStyle kErrors;

// Resolves a request's model; on failure answers the error (404 not_found_error) and returns
// nullopt.
std::optional<ServedModel> resolve_or_respond(ApiContext& ctx, const std::string& name, const Writer& w);

// "msg_" and 24 random hex digits, as Anthropic's and Ollama's message ids look.
std::string next_message_id();
// A tool_use id from a parsed call's id: "call_xxxxxxxx" -> "toolu_xxxxxxxx" (the suffix stays,
// so a seeded request repeats its ids).
std::string tool_use_id(std::string_view call_id);

}  // namespace corral::server::anthropic
