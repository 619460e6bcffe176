// POST /v1/chat/completions: an OpenAI chat request becomes the same job /api/chat runs.
// Tools are rendered through the model's template; the output is read back into content,
// reasoning and tool_calls (chat_output.h), tool_choice "required" / a function constrains it.
#include "server/chat_jobs.h"
#include "server/chat_output.h"
#include "server/chat_request.h"
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

// The body read into the shared ChatRequest: the fields /v1/completions shares (request.h), the
// messages, tools and tool_choice, response_format (replaced by the call's schema when
// tool_choice forces one) and reasoning.
Result<ChatRequest> parse_chat_request(const ordered_json& b) {
  CORRAL_ASSIGN_OR_RETURN(CommonFields fields, parse_common_fields(b));
  ChatRequest r;
  r.model = std::move(fields.model);
  r.stream = fields.stream;
  r.include_usage = fields.include_usage;
  r.top_logprobs = fields.top_logprobs;
  r.n = fields.n;
  r.options = std::move(fields.options);
  const ordered_json* message_list = find_field(b, "messages");
  CORRAL_ASSIGN_OR_RETURN(r.messages, parse_messages(message_list ? *message_list : ordered_json::array()));
  if (const ordered_json* t = find_field(b, "tools")) {
    if (!t->is_array()) return Status::error("invalid type for 'tools': expected an array");
    if (!t->empty()) r.tools = nlohmann::json(*t);
  }
  CORRAL_ASSIGN_OR_RETURN(r.tool_choice, parse_tool_choice(find_field(b, "tool_choice"), r.tools));
  const ordered_json* response_format = find_field(b, "response_format");
  if (response_format && !response_format->is_object())
    return Status::error("invalid type for 'response_format': expected an object");
  r.format.syntax = OutputFormat::Syntax::kResponseFormat;
  if (response_format) r.format.value = *response_format;
  if (r.tool_choice.forces_call()) {
    if (!r.format.value.is_null() && r.format.value.value("type", "") != "text")
      return Status::error("tool_choice cannot be combined with response_format");
    r.format.value =
        ordered_json{{"type", "json_schema"},
                     {"json_schema", {{"name", "tool_call"}, {"schema", forced_call_schema(r.tools, r.tool_choice)}}}};
  }
  CORRAL_ASSIGN_OR_RETURN(r.think, think_option(b));
  return r;
}

}  // namespace

void handle_chat_completions(ApiContext& ctx, http::Request&& req, Writer w) {
  const auto now = std::chrono::system_clock::now();
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, kErrors, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, kErrors, 400, qos.error());
  auto r = parse_chat_request(*body);
  if (!r) return respond_error(w, kErrors, 400, r.error());
  auto m = resolve_chat_model(ctx, kErrors, *r, w);
  if (!m) return;
  auto choices = prepare_chat_jobs(ctx, kErrors, *m, *r, *qos, w);
  if (!choices) return;
  submit_completion(ctx, *m, std::move(*choices),
                    ResponseInfo{.kind = ResponseInfo::Kind::kChat,
                                 .id = next_id("chatcmpl"),
                                 .created = unix_seconds(now),
                                 .model = r->model,
                                 .include_usage = r->include_usage},
                    r->stream, w);
}

}  // namespace corral::server::openai
