// Ollama's JSON for what the model said: message.content / .thinking / .tool_calls (chat) and
// response / thinking (generate), fields left out when empty as Ollama's omitempty does.
#pragma once

#include "server/api_common.h"
#include "server/completion_stream.h"

namespace corral::server {

// [{"id": "call_...", "function": {"index": 0, "name": ..., "arguments": {...}}}]
ordered_json ollama_tool_calls(const std::vector<OutputToolCall>& calls);

// Ollama's logprobs: [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]
ordered_json ollama_logprobs(const std::vector<engine::TokenLogprob>& logprobs);

// {"role": "assistant", "content": ..., "thinking"?: ..., "tool_calls"?: [...]}
ordered_json ollama_message(const CompletionOutput& out);

}  // namespace corral::server
