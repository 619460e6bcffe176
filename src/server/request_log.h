// One structured log line per finished inference request, at info level, in logfmt
// (key=value, values with spaces quoted) so it greps and parses:
//   request model=llama3.2:latest kind=completion status=200 done=stop prompt_tokens=26
//   cached_tokens=0 eval_tokens=64 queue_ms=0.1 ttft_ms=812.4 total_ms=4301.9 tokens_per_s=18.3
// With OLLAMA_DEBUG=1 (debug level) the line also carries load, prompt-eval and eval times.
#pragma once

#include <string>

#include "scheduler/scheduler.h"
#include "server/http/request.h"

namespace corral::server {

// The line's text, without the logger's timestamp and level.
std::string request_log_line(const scheduler::RequestRecord& r, bool debug);
// Logs it (the scheduler's request observer).
void log_request(const scheduler::RequestRecord& r);

// One line per request the access checks let through, at debug level (OLLAMA_DEBUG=1):
//   access method=POST path=/api/chat remote=127.0.0.1:50312 tenant=alice
// (tenant only when CORRAL_API_KEYS is set).
std::string access_log_line(const http::Request& req);
void log_access(const http::Request& req);

}  // namespace corral::server
