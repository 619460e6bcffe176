// Anthropic's Messages responses as a CompletionProtocol. Whole: one "message" object whose
// content is the thinking, text and tool_use blocks in the order the model wrote them. Streamed:
// server-sent events, each with its "event:" line (the SDK skips events without one):
// message_start (the message with empty content), ping, then per block content_block_start,
// content_block_delta (text_delta, thinking_delta, or one input_json_delta holding a tool call's
// whole input: calls are decided whole) and content_block_stop, then message_delta (stop_reason,
// stop_sequence, usage) and message_stop. A failure after the stream started is an "error"
// event, which the SDK raises as an APIError.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/api_context.h"
#include "server/chat_output.h"
#include "server/completion_stream.h"
#include "server/model_resolver.h"

namespace corral::server::anthropic {

struct ResponseInfo {
  std::string id = {};                           // "msg_..."
  std::string model = {};                        // the name the request used
  int64_t input_tokens = 0;                      // the prompt's tokens (message_start's usage)
  std::vector<std::string> stop_sequences = {};  // the request's: a match is stop_reason "stop_sequence"
};

std::unique_ptr<CompletionProtocol> make_protocol(ResponseInfo info);

// Answers `job` on `w` in Anthropic's shape (streamed or whole) and queues it for model `m`, or
// answers the scheduler's rejection. The output is read through `reading`.
void submit_message(ApiContext& ctx, const ServedModel& m, const std::shared_ptr<scheduler::Job>& job,
                    ResponseInfo info, bool stream, const Writer& w, OutputReading reading);

}  // namespace corral::server::anthropic
