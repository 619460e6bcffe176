#include "server/openai/responses.h"

#include <chrono>

#include "sampling/structured_output.h"
#include "server/chat_output.h"
#include "server/completion_jobs.h"
#include "server/model_capabilities.h"
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
                      {"model", r.model},
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
  if (!body) return respond_error(w, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
  auto parsed = parse_responses_request(*body);
  if (!parsed) return respond_error(w, 400, parsed.error());
  ResponsesRequest& r = *parsed;

  ordered_json format_request = r.response_format;
  if (r.tool_choice.forces_call()) {
    format_request =
        ordered_json{{"type", "json_schema"},
                     {"json_schema", {{"name", "tool_call"}, {"schema", forced_call_schema(r.tools, r.tool_choice)}}}};
  }
  auto program = sampling::program_for_response_format(format_request);
  if (!program) return respond_error(w, 400, program.error());

  auto m = resolve_or_respond(ctx, r.model, w);
  if (!m) return;
  if (Status st = check_completion(*m, r.model, "chat"); !st) return respond_error(w, 400, st.message());
  if (Status st = check_capabilities(*m, r.model, !r.tools.is_null(), r.tool_choice, r.think); !st)
    return respond_error(w, 400, st.message());
  nlohmann::json tools = r.tool_choice.mode == ToolChoice::Mode::kNone ? nlohmann::json() : r.tools;
  auto opts = options_for(*m, r.options);
  if (!opts) return respond_status(w, opts.status());
  const RequestOptions& o = *opts;

  auto job = std::make_shared<scheduler::Job>();
  qos->apply(*job);
  job->options = o.job;
  std::string rendered;
  if (Status st = prepare_job(ctx, *m, *job, chat_prepare(*m, r.messages, tools, r.think, stops_for(o, *m)),
                              ctx.filter_factory(m->spec.key + "@" + m->spec.digest, *program), &rendered);
      !st)
    return respond_status(w, st);
  auto cs = std::make_shared<CompletionStream>(w, r.stream, make_responses_protocol(response_object(r, now)));
  read_output_with(*cs, *job, output_reading(*m, tools, r.think, r.tool_choice, rendered));
  attach(job, w, cs);
  if (auto rej = ctx.scheduler.submit(m->spec, job, std::nullopt)) respond_rejection(w, *rej);
}

}  // namespace corral::server::openai
