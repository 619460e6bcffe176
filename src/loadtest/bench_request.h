// One load-test request against an Ollama-compatible server, timed as the client sees it: when
// the first token arrived, the gaps between token chunks, the end; the token counts the server
// reported. Ollama's /api/generate (NDJSON) or OpenAI's /v1/chat/completions (server-sent
// events), streaming or not. Blocking libcurl; one call per worker thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::cli::bench {

enum class Api { kOllama, kOpenAI };

struct RequestSpec {
  std::string base_url;  // "http://127.0.0.1:11434"
  Api api = Api::kOllama;
  std::string model;
  std::string prompt;
  int64_t num_predict = 64;
  bool stream = true;
  double timeout_s = 600;
  // Extra request headers ("x-llm-d-inference-fairness-id: a"): tenants and objectives.
  std::vector<std::string> headers = {};
};

struct RequestResult {
  long status = 0;            // HTTP status; 0: no response (connection failed, timed out)
  std::string error;          // non-empty when the request failed (also after a 200)
  double start_s = 0;         // when it was sent, from the start of its concurrency level
  double ttft_s = -1;         // first token chunk (streaming only; -1: none)
  double e2e_s = 0;           // the whole response
  int64_t output_tokens = 0;  // the server's count (eval_count / usage), else chunks seen
  int64_t prompt_tokens = 0;  // the server's count, when it reports one
  std::vector<float> itl_s;   // gaps between successive token chunks (streaming)

  bool ok() const { return status == 200 && error.empty(); }
};

// The request body for `spec`.
std::string request_body(const RequestSpec& spec);
// The path it goes to: /api/generate or /v1/chat/completions.
const char* request_path(Api api);

// Sends it and waits for the whole response. `live_tokens` (optional) is bumped per token chunk
// as it arrives (the progress line); a set `abort` ends the transfer early (an error result).
RequestResult send_request(const RequestSpec& spec, std::atomic<int64_t>* live_tokens, const std::atomic<bool>* abort);

// A plain JSON call for the control requests around a load test (/api/ps, /api/show,
// /api/create, ...): the parsed body of a 2xx answer (null when empty), else an error with the
// server's message. `body` is sent unless null.
Result<nlohmann::json> json_call(const std::string& method, const std::string& url,
                                 const nlohmann::json& body = nullptr, double timeout_s = 60);

}  // namespace corral::cli::bench
