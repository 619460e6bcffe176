// POST /v1/chat/completions: an OpenAI chat request becomes the same job /api/chat runs.
// Tools are rendered through the model's template (so the model sees them); tool calls in
// the output are not parsed back into tool_calls yet, they arrive as message content.
#include "sampling/structured_output.h"
#include "server/completion_jobs.h"
#include "server/openai_common.h"
#include "server/openai_handlers.h"
#include "server/openai_messages.h"
#include "server/openai_request.h"
#include "server/openai_stream.h"

namespace corral::server::openai {
namespace {

// reasoning_effort (or reasoning.effort): "none" turns thinking off, a level turns it on.
Result<ThinkOption> think_option(const ordered_json& b) {
  std::string effort;
  if (auto r = b.find("reasoning"); r != b.end() && r->is_object() && r->contains("effort"))
    effort = (*r)["effort"].is_string() ? (*r)["effort"].get<std::string>() : "?";
  else if (auto e = b.find("reasoning_effort"); e != b.end() && !e->is_null())
    effort = e->is_string() ? e->get<std::string>() : "?";
  ThinkOption think;
  if (effort.empty()) return think;
  if (effort == "none") {
    think.enabled = false;
  } else if (effort == "high" || effort == "medium" || effort == "low") {
    think.level = effort;
  } else {
    return Status::errorf("invalid reasoning value: '{}' (must be \"high\", \"medium\", \"low\", or \"none\")", effort);
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
  auto messages = parse_messages(b.contains("messages") ? b["messages"] : ordered_json::array());
  if (!messages) return respond_error(w, 400, messages.error());
  auto program = sampling::program_for_response_format(b.value("response_format", ordered_json()));
  if (!program) return respond_error(w, 400, program.error());
  nlohmann::json tools;
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) return respond_error(w, 400, "invalid type for 'tools': expected an array");
    if (!it->empty()) tools = nlohmann::json::parse(it->dump());
  }
  auto think = think_option(b);
  if (!think) return respond_error(w, 400, think.error());

  auto m = resolve_or_respond(ctx, fields->model, w);
  if (!m) return;
  auto opts = options_for(*m, fields->options);
  if (auto* err = std::get_if<ApiError>(&opts)) return respond_error(w, err->http_status, err->message);
  const RequestOptions& o = std::get<RequestOptions>(opts);

  auto job = std::make_shared<scheduler::Job>();
  job->options = o.job;
  job->make_filter = ctx.filter_factory(m->spec.key + "@" + m->spec.digest, *program);
  job->prepare = chat_prepare(*m, *messages, std::move(tools), *think, stops_for(o, *m));
  submit_completion(ctx, *m, job, *fields, ResponseInfo::Kind::kChat, "chatcmpl", now, w);
}

}  // namespace corral::server::openai
