#include "server/openai/responses.h"

#include <chrono>

#include "server/chat_jobs.h"
#include "server/openai/common.h"
#include "server/openai/responses_request.h"
#include "server/openai/responses_stream.h"
#include "server/request_qos.h"

namespace corral::server::openai {
namespace {

// The response object's fields as Ollama's ToResponse writes them (the SDKs read several of
// them back: tools, tool_choice, text, parallel_tool_calls, ...); status, output, usage and
// completed_at are filled in as the response runs. Nothing is stored: store is false.
ordered_json response_object(const ResponsesRequest& r, std::chrono::system_clock::time_point requested) {
  return ordered_json{{"id", random_id("resp")},
                      {"object", "response"},
                      {"created_at", unix_seconds(requested)},
                      {"completed_at", nullptr},
                      {"status", "in_progress"},
                      {"incomplete_details", nullptr},
                      {"model", r.chat.model},
                      {"previous_response_id", nullptr},
                      {"instructions", r.echo_instructions},
                      {"output", ordered_json::array()},
                      {"error", nullptr},
                      {"tools", r.echo_tools},
                      {"tool_choice", r.echo_tool_choice},
                      {"truncation", r.truncation},
                      {"parallel_tool_calls", r.parallel_tool_calls},
                      {"text", {{"format", r.echo_text_format}}},
                      {"top_p", r.top_p},
                      {"presence_penalty", 0},
                      {"frequency_penalty", 0},
                      {"top_logprobs", 0},
                      {"temperature", r.temperature},
                      {"reasoning", r.echo_reasoning},
                      {"usage", nullptr},
                      {"max_output_tokens", r.echo_max_output_tokens},
                      {"max_tool_calls", nullptr},
                      {"store", false},
                      {"background", false},
                      {"service_tier", "default"},
                      {"metadata", r.echo_metadata},
                      {"safety_identifier", nullptr},
                      {"prompt_cache_key", nullptr}};
}

}  // namespace

void handle_responses(ApiContext& ctx, http::Request&& req, Writer w) {
  const auto now = std::chrono::system_clock::now();
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, kErrors, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, kErrors, 400, qos.error());
  auto r = parse_responses_request(*body);
  if (!r) return respond_error(w, kErrors, 400, r.error());
  auto m = resolve_chat_model(ctx, kErrors, r->chat, w);
  if (!m) return;
  auto jobs = prepare_chat_jobs(ctx, kErrors, *m, r->chat, *qos, w);
  if (!jobs) return;
  ChoiceJob& c = jobs->front();  // the Responses API has no n: one choice
  auto cs = std::make_shared<CompletionStream>(w, r->chat.stream, make_responses_protocol(response_object(*r, now)));
  read_output_with(*cs, *c.job, std::move(c.reading));
  attach(c.job, w, cs);
  if (auto rej = ctx.scheduler.submit(m->spec, c.job, std::nullopt)) respond_rejection(w, kErrors, *rej);
}

}  // namespace corral::server::openai
