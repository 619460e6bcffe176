// POST /v1/chat/completions: an OpenAI chat request becomes the same job /api/chat runs.
// Tools are rendered through the model's template (so the model sees them); tool calls in
// the output are not parsed back into tool_calls yet, they arrive as message content.
#include "sampling/structured_output.h"
#include "server/completion_jobs.h"
#include "server/openai/common.h"
#include "server/openai/handlers.h"
#include "server/openai/messages.h"
#include "server/openai/request.h"
#include "server/openai/stream.h"
#include "server/request_fields.h"

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
  const ordered_json& b = *body;
  auto fields = parse_common_fields(b);
  if (!fields) return respond_error(w, 400, fields.error());
  const ordered_json* message_list = find_field(b, "messages");
  auto messages = parse_messages(message_list ? *message_list : ordered_json::array());
  if (!messages) return respond_error(w, 400, messages.error());
  const ordered_json* response_format = find_field(b, "response_format");
  if (response_format && !response_format->is_object())
    return respond_error(w, 400, "invalid type for 'response_format': expected an object");
  auto program = sampling::program_for_response_format(response_format ? *response_format : ordered_json());
  if (!program) return respond_error(w, 400, program.error());
  nlohmann::json tools;
  if (const ordered_json* t = find_field(b, "tools")) {
    if (!t->is_array()) return respond_error(w, 400, "invalid type for 'tools': expected an array");
    if (!t->empty()) tools = nlohmann::json(*t);
  }
  auto think = think_option(b);
  if (!think) return respond_error(w, 400, think.error());

  auto m = resolve_or_respond(ctx, fields->model, w);
  if (!m) return;
  auto opts = options_for(*m, fields->options);
  if (!opts) return respond_status(w, opts.status());
  const RequestOptions& o = *opts;

  auto job = std::make_shared<scheduler::Job>();
  job->options = o.job;
  if (Status st = prepare_job(ctx, *m, *job, chat_prepare(*m, *messages, std::move(tools), *think, stops_for(o, *m)),
                              ctx.filter_factory(m->spec.key + "@" + m->spec.digest, *program));
      !st)
    return respond_status(w, st);
  submit_completion(ctx, *m, job, *fields, ResponseInfo::Kind::kChat, "chatcmpl", now, w);
}

}  // namespace corral::server::openai
