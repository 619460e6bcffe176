// POST /api/chat
#include "sampling/structured_output.h"
#include "server/chat_output.h"
#include "server/completion_jobs.h"
#include "server/completion_stream.h"
#include "server/model_capabilities.h"
#include "server/ollama/handlers.h"
#include "server/ollama/output.h"
#include "server/ollama/request.h"
#include "server/request_fields.h"
#include "server/request_options.h"
#include "server/request_qos.h"

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
    if (Status s = read_string(m, "tool_call_id", &msg.tool_call_id); !s)
      return Status::error("message tool_call_id must be a string");
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace

void handle_chat(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
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
  if (Status st = check_completion(m, name, "chat"); !st) return respond_error(w, 400, st.message());

  if (messages->empty()) {
    return load_or_unload(ctx, m, c.keep_alive, w, [name](const char* reason) {
      return ordered_json{{"model", name},
                          {"created_at", now_rfc3339()},
                          {"message", {{"role", "assistant"}, {"content", ""}}},
                          {"done_reason", reason},
                          {"done", true}};
    });
  }

  nlohmann::json tools;
  if (*tools_field && !(*tools_field)->empty()) tools = nlohmann::json(**tools_field);
  // corral's addition: OpenAI's tool_choice, here too ("required" or a function forces a call).
  auto choice = parse_tool_choice(find_field(b, "tool_choice"), tools);
  if (!choice) return respond_error(w, 400, choice.error());
  ThinkOption think = c.think;
  if (Status st = check_capabilities(m, name, !tools.is_null(), *choice, think); !st)
    return respond_error(w, 400, st.message());
  if (choice->mode == ToolChoice::Mode::kNone) tools = nullptr;

  auto opts_or = options_or_respond(m, c, w);
  if (!opts_or) return;
  const RequestOptions& opts = *opts_or;
  ordered_json format = c.format;
  if (choice->forces_call()) {
    if (!format.is_null() && format != "") return respond_error(w, 400, "tool_choice cannot be combined with format");
    format = forced_call_schema(tools, *choice);
  }
  auto program = sampling::program_for_format(format);
  if (!program) return respond_error(w, 400, program.error());

  auto job = std::make_shared<scheduler::Job>();
  qos->apply(*job);
  job->options = opts.job;
  job->options.top_logprobs = c.top_logprobs;
  std::string rendered;
  if (Status st = prepare_job(ctx, m, *job, chat_prepare(m, *messages, tools, think, stops_for(opts, m)),
                              ctx.filter_factory(m.spec.key + "@" + m.spec.digest, *program), &rendered);
      !st)
    return respond_status(w, st);
  auto cs = std::make_shared<CompletionStream>(
      w, c.stream,
      [name](const CompletionOutput& piece) {
        ordered_json j{{"model", name}, {"created_at", now_rfc3339()}, {"message", ollama_message(piece)}};
        if (!piece.logprobs.empty()) j["logprobs"] = ollama_logprobs(piece.logprobs);
        j["done"] = false;
        return j;
      },
      [name](const scheduler::JobEvent& e, const CompletionOutput& full) {
        ordered_json j{{"model", name},
                       {"created_at", now_rfc3339()},
                       {"message", ollama_message(full)},
                       {"done_reason", scheduler::done_reason_name(e.done_reason)},
                       {"done", true}};
        if (!full.logprobs.empty()) j["logprobs"] = ollama_logprobs(full.logprobs);
        add_stats(j, e.stats);
        return j;
      });
  read_output_with(*cs, *job, output_reading(m, tools, think, *choice, rendered));
  attach(job, w, cs);
  if (auto rej = ctx.scheduler.submit(m.spec, job, c.keep_alive)) respond_rejection(w, *rej);
}

}  // namespace corral::server
