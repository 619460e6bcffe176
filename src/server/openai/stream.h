// OpenAI's completion responses as a CompletionProtocol: chat.completion /
// chat.completion.chunk objects for /v1/chat/completions, text_completion for /v1/completions.
// Streams are server-sent events, "data: {chunk}\n\n" per piece of text, then the chunk with
// the finish_reason, then (stream_options.include_usage) a chunk with empty choices and the
// usage, then "data: [DONE]\n\n". With include_usage every other chunk has "usage": null, as
// OpenAI documents it. A failure after output started is sent as "data: {"error": {...}}",
// which the official SDKs raise as an APIError.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_context.h"
#include "server/chat_jobs.h"
#include "server/chat_output.h"
#include "server/completion_stream.h"
#include "server/model_resolver.h"
#include "server/openai/request.h"

namespace corral::server::openai {

struct ResponseInfo {
  enum class Kind { kChat, kText };
  Kind kind = Kind::kChat;
  std::string id = {};     // "chatcmpl-<n>" / "cmpl-<n>"
  int64_t created = 0;     // unix seconds of the request, the same in every chunk
  std::string model = {};  // the name the request used
  bool include_usage = false;
};

std::unique_ptr<CompletionProtocol> make_protocol(ResponseInfo info);

// Answers the choices' jobs (chat_jobs.h) together on `w` in OpenAI's shape, streamed or whole,
// and queues them for model `m`, or answers the scheduler's rejection (any refused job cancels
// the others).
void submit_completion(ApiContext& ctx, const ServedModel& m, std::vector<ChoiceJob> choices, ResponseInfo info,
                       bool stream, const Writer& w);

}  // namespace corral::server::openai
