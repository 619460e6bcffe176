// The path every chat-style request takes once its family's parser has read it into a
// ChatRequest (chat_request.h): resolve the model and check it completes text, settle the
// request against it (capabilities, think's default, tool_choice "none"), layer the options over
// its PARAMETERs, compile the structured output, and prepare the request's jobs here, on the
// request's thread (prompt rendered and tokenized, output parser chosen). Errors are answered in
// the family's ErrorShape; the response itself is the family's.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "scheduler/job.h"
#include "server/api_common.h"
#include "server/api_context.h"
#include "server/chat_output.h"
#include "server/chat_request.h"
#include "server/completion_jobs.h"
#include "server/model_resolver.h"
#include "server/request_qos.h"

namespace corral::server {

// One choice of a response: its job (prepared) and how its output is read (chat: content,
// reasoning and tool calls; an empty reading: all content).
struct ChoiceJob {
  std::shared_ptr<scheduler::Job> job;
  OutputReading reading = {};
};

// Choice `choice`'s job options: the request's, with the logprobs it asked for and, when it set
// a seed, seed + choice (each choice differs, a repeated request repeats them all).
scheduler::JobOptions choice_options(const scheduler::JobOptions& request, int top_logprobs, int choice);

// Resolves the request's model (errors as resolve_or_respond) and checks it serves
// r.kind() (a 400 naming the model otherwise). On failure it has answered and returns nullopt.
std::optional<ServedModel> resolve_chat_model(ApiContext& ctx, const ErrorShape& shape, const ChatRequest& r,
                                              const Writer& w);

// Settles the request against the model it runs on (kInvalidArgument with Ollama's wording):
// thinking dropped where the request allows it (drop_unsupported_thinking), a suffix for a
// template without insert refused, then check_capabilities (tools, think and its default), and
// tool_choice "none" leaves the tools out of the prompt.
Status settle_for_model(const ServedModel& m, ChatRequest& r);

// The prepare step for the request's prompt: chat_prepare over its messages, or for a generate
// request generate_prepare through the model's template (or the request's own: a template that
// does not parse is kInvalidArgument).
Result<PrepareFn> prompt_for(const ServedModel& m, const ChatRequest& r, std::vector<std::string> stops);

// settle_for_model, options_for, the structured-output program, then r.n jobs prepared alike
// (qos applied, choice i's seed + i), each with the output reading its rendered prompt calls
// for. On failure it has answered the error in `shape` and returns nullopt.
std::optional<std::vector<ChoiceJob>> prepare_chat_jobs(ApiContext& ctx, const ErrorShape& shape, const ServedModel& m,
                                                        ChatRequest& r, const RequestQos& qos, const Writer& w);

}  // namespace corral::server
