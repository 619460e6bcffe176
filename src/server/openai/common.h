// Shared bits of the OpenAI-compatible API (/v1/...): OpenAI's error shape, ids, timestamps,
// usage and finish reasons. Ollama's compatibility layer (ollama/ollama openai/openai.go and
// middleware/openai.go) is the reference for how each field maps onto Ollama's API.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "scheduler/job.h"
#include "scheduler/scheduler.h"
#include "server/api_common.h"
#include "server/api_context.h"
#include "server/completion_stream.h"

namespace corral::server::openai {

// {"error": {"message", "type", "param": null, "code"}}. The type follows Ollama's NewError:
// 400 invalid_request_error, 404 not_found_error, anything else api_error.
ordered_json error_body(int status, std::string_view message, const char* code = nullptr);
// error_body, with code "model_not_found" for a model not in the store (as OpenAI itself answers).
extern const ErrorShape kErrors;

// "<prefix>-<n>" with n unique in this process ("chatcmpl-7", "cmpl-8").
std::string next_id(std::string_view prefix);
int64_t unix_seconds(std::chrono::system_clock::time_point t);
// The model's owner as Ollama reports it: the namespace of its name ("library" by default).
std::string owned_by(const std::string& model_name);

// {"prompt_tokens", "completion_tokens", "total_tokens"}
ordered_json usage(const scheduler::JobStats& s);
// "stop" or "length".
const char* finish_reason(scheduler::DoneReason r);

}  // namespace corral::server::openai
