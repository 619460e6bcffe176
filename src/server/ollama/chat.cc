// POST /api/chat
#include "sampling/structured_output.h"
#include "server/completion_jobs.h"
#include "server/completion_stream.h"
#include "server/ollama/handlers.h"
#include "server/ollama/request.h"
#include "server/request_fields.h"
#include "server/request_options.h"

namespace corral::server {
namespace {

Result<std::vector<ChatMessage>> parse_messages(const ordered_json& b) {
  std::vector<ChatMessage> out;
  CORRAL_ASSIGN_OR_RETURN(const ordered_json* list, read_array(b, "messages"));
  if (!list) return out;
  for (const auto& m : *list) {
    if (!m.is_object()) return Status::error("each message must be an object");
    ChatMessage msg;
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return Status::error("each message needs a string role");
    msg.role = role->get<std::string>();
    if (const ordered_json* c = find_field(m, "content"); c && !c->is_string())
      return Status::error("message content must be a string");
    CORRAL_RETURN_IF_ERROR(read_string(m, "content", &msg.content));
    CORRAL_RETURN_IF_ERROR(reject_images(m));
    if (Status s = read_string(m, "thinking", &msg.thinking); !s)
      return Status::error("message thinking must be a string");
    CORRAL_ASSIGN_OR_RETURN(const ordered_json* calls, read_array(m, "tool_calls"));
    if (calls) msg.tool_calls = nlohmann::json(*calls);
    if (Status s = read_string(m, "tool_name", &msg.tool_name); !s)
      return Status::error("message tool_name must be a string");
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace

void handle_chat(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  const ordered_json& b = *body;
  auto common = parse_ollama_request(b, OllamaEndpoint::kChat);
  if (!common) return respond_error(w, 400, common.error());
  const OllamaRequest& c = *common;
  const std::string name = c.model;
  auto messages = parse_messages(b);
  if (!messages) return respond_error(w, 400, messages.error());
  auto tools_field = read_array(b, "tools");
  if (!tools_field) return respond_error(w, 400, tools_field.error());
  auto resolved = resolve_or_respond(ctx, name, w);
  if (!resolved) return;
  const ServedModel& m = *resolved;

  if (messages->empty()) {
    return load_or_unload(ctx, m, c.keep_alive, w, [name](const char* reason) {
      return ordered_json{{"model", name},
                          {"created_at", now_rfc3339()},
                          {"message", {{"role", "assistant"}, {"content", ""}}},
                          {"done_reason", reason},
                          {"done", true}};
    });
  }

  auto opts_or = options_or_respond(m, c, w);
  if (!opts_or) return;
  const RequestOptions& opts = *opts_or;
  auto program = sampling::program_for_format(c.format);
  if (!program) return respond_error(w, 400, program.error());
  nlohmann::json tools;
  if (*tools_field) tools = nlohmann::json(**tools_field);

  auto job = std::make_shared<scheduler::Job>();
  job->options = opts.job;
  if (Status st = prepare_job(ctx, m, *job, chat_prepare(m, *messages, std::move(tools), c.think, stops_for(opts, m)),
                              ctx.filter_factory(m.spec.key + "@" + m.spec.digest, *program));
      !st)
    return respond_status(w, st);
  auto cs = std::make_shared<CompletionStream>(
      w, c.stream,
      [name](const std::string& text) {
        return ordered_json{{"model", name},
                            {"created_at", now_rfc3339()},
                            {"message", {{"role", "assistant"}, {"content", text}}},
                            {"done", false}};
      },
      [name](const scheduler::JobEvent& e, const std::string& full) {
        ordered_json j{{"model", name},
                       {"created_at", now_rfc3339()},
                       {"message", {{"role", "assistant"}, {"content", full}}},
                       {"done_reason", scheduler::done_reason_name(e.done_reason)},
                       {"done", true}};
        add_stats(j, e.stats);
        return j;
      });
  attach(job, w, cs);
  if (auto rej = ctx.scheduler.submit(m.spec, job, c.keep_alive)) respond_rejection(w, *rej);
}

}  // namespace corral::server
