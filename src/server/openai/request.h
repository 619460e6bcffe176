// The request fields /v1/chat/completions and /v1/completions share, read with OpenAI's
// semantics and mapped onto Ollama's options as Ollama's FromChatRequest/FromCompleteRequest
// do: temperature and top_p default to 1.0 (OpenAI's defaults, not Ollama's 0.8/0.9),
// max_tokens (or the newer max_completion_tokens) is num_predict, stop is a string or an
// array, seed and the frequency/presence penalties pass through.
#pragma once

#include <string>

#include "base/status.h"
#include "scheduler/job.h"
#include "server/api_common.h"

namespace corral::server::openai {

struct CommonFields {
  std::string model;
  ordered_json options = ordered_json::object();  // Ollama "options" for apply_options()
  bool stream = false;                            // OpenAI's default
  bool include_usage = false;                     // stream_options.include_usage
  // -1: no logprobs. Chat: "logprobs": true with "top_logprobs" 0..20 alternatives; the legacy
  // completions: "logprobs": 0..5 alternatives.
  int top_logprobs = -1;
  // Choices to generate for the one prompt (OpenAI's n): each its own job with its own seed,
  // the prompt prefilled once and shared (engine/prefill_sharing.h).
  int n = 1;
};

// OpenAI's bound on n.
constexpr int kMaxChoices = 128;

// Type errors name the field as OpenAI does ("invalid type for 'temperature': ...").
// Unsupported values are errors too: best_of > 1, echo.
Result<CommonFields> parse_common_fields(const ordered_json& body);

}  // namespace corral::server::openai
