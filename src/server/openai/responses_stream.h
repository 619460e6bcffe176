// OpenAI's Responses API wire format as a CompletionProtocol: the "response" object (whole), or
// server-sent events with `event:` names and a sequence_number (streamed), in the order OpenAI
// sends them (platform.openai.com/docs/api-reference/responses-streaming):
//   response.created, response.in_progress,
//   per reasoning item: output_item.added, reasoning_summary_part.added,
//     reasoning_summary_text.delta..., reasoning_summary_text.done, reasoning_summary_part.done,
//     output_item.done
//   per message item: output_item.added, content_part.added, output_text.delta...,
//     output_text.done, content_part.done, output_item.done
//   per function call: output_item.added, function_call_arguments.delta,
//     function_call_arguments.done, output_item.done
//   response.completed (or response.incomplete when max_output_tokens cut it short).
// Ollama sends the same but leaves out the reasoning summary part events, which the official
// openai client's stream helper needs. The output holds a reasoning item (its summary and, as
// Ollama does, the plain reasoning as encrypted_content, which clients send back), a message
// item unless the model only called tools, and one function_call item per call. A failure after
// the stream started is an "error" event (OpenAI's fields, plus `error` nested as the SDKs read it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/api_common.h"
#include "server/completion_stream.h"

namespace corral::server::openai {

// A fresh id: "<prefix>_" and 32 random hex digits ("resp_...", "msg_...", "fc_...", "rs_...").
std::string random_id(std::string_view prefix);

// `response`: the response object's fields that do not change as it runs (id, created_at, model
// and the request's echoed settings; see responses.cc); the protocol fills in status, output,
// usage and completed_at.
std::unique_ptr<CompletionProtocol> make_responses_protocol(ordered_json response);

}  // namespace corral::server::openai
