// POST /v1/chat/completions: an OpenAI chat request becomes the same job /api/chat runs.
// Tools are rendered through the model's template; the output is read back into content,
// reasoning and tool_calls (chat_output.h), tool_choice "required" / a function constrains it.
#include "sampling/structured_output.h"
#include "server/chat_output.h"
#include "server/completion_jobs.h"
#include "server/model_capabilities.h"
#include "server/openai/common.h"
#include "server/openai/handlers.h"
#include "server/openai/messages.h"
#include "server/openai/request.h"
#include "server/openai/stream.h"
#include "server/request_fields.h"
#include "server/request_qos.h"

namespace corral::server::openai {
namespace {

// reasoning_effort (or reasoning.effort): "none" turns thinking off, a level turns it on.
Result<ThinkOption> think_option(const ordered_json& b) {
  std::string effort;
  const ordered_json* reasoning = find_field(b, "reasoning");
  if (reasoning && !reasoning->is_object()) return Status::error("invalid type for 'reasoning': expected an object");
  if (const ordered_json* e = reasoning ? find_field(*reasoning, "effort") : nullptr) {
    if (!e->is_string()) return Status::error("invalid type for 'reasoning.effort': expected a string");
    effort = e->get_ref<const std::string&>();
  } else if (const ordered_json* e = find_field(b, "reasoning_effort")) {
    if (!e->is_string()) return Status::error("invalid type for 'reasoning_effort': expected a string");
    effort = e->get_ref<const std::string&>();
  }
  ThinkOption think;
  if (effort.empty()) return think;
  if (effort == "none") {
    think.enabled = false;
  } else if (effort == "high" || effort == "medium" || effort == "low") {
    think.level = effort;
  } else {
    return Status::errorf("invalid reasoning value: '{}' (must be \"high\", \"medium\", \"low\", or \"none\")",
                          clip_for_error(effort));
  }
  return think;
}

}  // namespace

void handle_chat_completions(ApiContext& ctx, http::Request&& req, Writer w) {
  const auto now = std::chrono::system_clock::now();
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
  const ordered_json& b = *body;
  auto fields = parse_common_fields(b);
  if (!fields) return respond_error(w, 400, fields.error());
  const ordered_json* message_list = find_field(b, "messages");
  auto messages = parse_messages(message_list ? *message_list : ordered_json::array());
  if (!messages) return respond_error(w, 400, messages.error());
  nlohmann::json tools;
  if (const ordered_json* t = find_field(b, "tools")) {
    if (!t->is_array()) return respond_error(w, 400, "invalid type for 'tools': expected an array");
    if (!t->empty()) tools = nlohmann::json(*t);
  }
  auto choice = parse_tool_choice(find_field(b, "tool_choice"), tools);
  if (!choice) return respond_error(w, 400, choice.error());
  const ordered_json* response_format = find_field(b, "response_format");
  if (response_format && !response_format->is_object())
    return respond_error(w, 400, "invalid type for 'response_format': expected an object");
  ordered_json format_request = response_format ? *response_format : ordered_json();
  if (choice->forces_call()) {
    if (!format_request.is_null() && format_request.value("type", "") != "text")
      return respond_error(w, 400, "tool_choice cannot be combined with response_format");
    format_request =
        ordered_json{{"type", "json_schema"},
                     {"json_schema", {{"name", "tool_call"}, {"schema", forced_call_schema(tools, *choice)}}}};
  }
  auto program = sampling::program_for_response_format(format_request);
  if (!program) return respond_error(w, 400, program.error());
  auto think = think_option(b);
  if (!think) return respond_error(w, 400, think.error());

  auto m = resolve_or_respond(ctx, fields->model, w);
  if (!m) return;
  if (Status st = check_completion(*m, fields->model, "chat"); !st) return respond_error(w, 400, st.message());
  if (Status st = check_capabilities(*m, fields->model, !tools.is_null(), *choice, *think); !st)
    return respond_error(w, 400, st.message());
  if (choice->mode == ToolChoice::Mode::kNone) tools = nullptr;
  auto opts = options_for(*m, fields->options);
  if (!opts) return respond_status(w, opts.status());
  const RequestOptions& o = *opts;

  // n choices: one job each, prepared alike (the engine shares their prompt's prefill).
  std::vector<ChoiceJob> choices;
  for (int i = 0; i < fields->n; ++i) {
    auto job = std::make_shared<scheduler::Job>();
    qos->apply(*job);
    job->options = choice_options(o.job, *fields, i);
    std::string rendered;
    if (Status st = prepare_job(ctx, *m, *job, chat_prepare(*m, *messages, tools, *think, stops_for(o, *m)),
                                ctx.filter_factory(m->spec.key + "@" + m->spec.digest, *program), &rendered);
        !st)
      return respond_status(w, st);
    choices.push_back(ChoiceJob{job, output_reading(*m, tools, *think, *choice, rendered)});
  }
  submit_completion(ctx, *m, std::move(choices), *fields, ResponseInfo::Kind::kChat, "chatcmpl", now, w);
}

}  // namespace corral::server::openai
