// POST /api/chat
#include "sampling/structured_output.h"
#include "server/completion_jobs.h"
#include "server/completion_stream.h"
#include "server/ollama_handlers.h"
#include "server/request_options.h"

namespace corral::server {
namespace {

Result<std::vector<ChatMessage>> parse_messages(const ordered_json& b) {
  std::vector<ChatMessage> out;
  auto it = b.find("messages");
  if (it == b.end() || it->is_null()) return out;
  if (!it->is_array()) return Status::error("messages must be an array");
  for (const auto& m : *it) {
    if (!m.is_object()) return Status::error("each message must be an object");
    ChatMessage msg;
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return Status::error("each message needs a string role");
    msg.role = role->get<std::string>();
    if (auto c = m.find("content"); c != m.end() && !c->is_null()) {
      if (!c->is_string()) return Status::error("message content must be a string");
      msg.content = c->get<std::string>();
    }
    CORRAL_RETURN_IF_ERROR(reject_images(m));
    if (auto t = m.find("thinking"); t != m.end() && t->is_string()) msg.thinking = t->get<std::string>();
    if (auto t = m.find("tool_calls"); t != m.end() && t->is_array()) msg.tool_calls = nlohmann::json::parse(t->dump());
    if (auto t = m.find("tool_name"); t != m.end() && t->is_string()) msg.tool_name = t->get<std::string>();
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace

void handle_chat(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  const ordered_json& b = *body;
  if (b.contains("model") && !b["model"].is_string()) return respond_error(w, 400, "model must be a string");
  const std::string name = b.value("model", "");
  auto messages = parse_messages(b);
  if (!messages) return respond_error(w, 400, messages.error());
  auto keep_alive = parse_keep_alive_field(b);
  if (!keep_alive) return respond_error(w, 400, keep_alive.error());
  bool stream = true;
  if (auto it = b.find("stream"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) return respond_error(w, 400, "stream must be a boolean");
    stream = it->get<bool>();
  }
  auto resolved = ctx.resolver.resolve(name);
  if (auto* err = std::get_if<ResolveError>(&resolved)) return respond_error(w, err->http_status, err->message);
  ServedModel m = std::get<ServedModel>(std::move(resolved));

  if (messages->empty()) {
    return load_or_unload(ctx, m, *keep_alive, w, [name](const char* reason) {
      return ordered_json{{"model", name},
                          {"created_at", now_rfc3339()},
                          {"message", {{"role", "assistant"}, {"content", ""}}},
                          {"done_reason", reason},
                          {"done", true}};
    });
  }

  RequestOptions opts;
  if (Status s = apply_options(m.params, &opts); !s) return respond_error(w, 500, "model parameters: " + s.message());
  if (Status s = apply_options(b.value("options", ordered_json()), &opts); !s) return respond_error(w, 400, s.message());
  auto program = sampling::program_for_format(b.value("format", ordered_json()));
  if (!program) return respond_error(w, 400, program.error());
  nlohmann::json tools;
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) return respond_error(w, 400, "tools must be an array");
    tools = nlohmann::json::parse(it->dump());
  }
  ThinkOption think;
  if (auto it = b.find("think"); it != b.end() && !it->is_null()) {
    if (it->is_boolean()) think.enabled = it->get<bool>();
    else if (it->is_string()) think.level = it->get<std::string>();
  }

  auto job = std::make_shared<scheduler::Job>();
  job->options = opts.job;
  job->make_filter = ctx.filter_factory(m.spec.key + "@" + m.spec.digest, *program);
  job->prepare = chat_prepare(m, *messages, std::move(tools), think, stops_for(opts, m));
  auto cs = std::make_shared<CompletionStream>(
      w, stream,
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
  if (auto rej = ctx.scheduler.submit(m.spec, job, *keep_alive)) respond_rejection(w, *rej);
}

}  // namespace corral::server
