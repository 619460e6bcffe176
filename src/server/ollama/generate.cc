// POST /api/generate
#include "server/chat_jobs.h"
#include "server/completion_stream.h"
#include "server/ollama/handlers.h"
#include "server/ollama/output.h"
#include "server/ollama/request.h"
#include "server/request_qos.h"

namespace corral::server {

namespace {

std::shared_ptr<CompletionStream> generate_stream(const Writer& w, bool stream, const std::string& name) {
  return std::make_shared<CompletionStream>(
      w, stream,
      [name](const CompletionOutput& piece) {
        ordered_json j{{"model", name}, {"created_at", now_rfc3339()}, {"response", piece.content}};
        if (!piece.thinking.empty()) j["thinking"] = piece.thinking;
        if (!piece.logprobs.empty()) j["logprobs"] = ollama_logprobs(piece.logprobs);
        j["done"] = false;
        return j;
      },
      [name](const scheduler::JobEvent& e, const CompletionOutput& full) {
        ordered_json j{{"model", name}, {"created_at", now_rfc3339()}, {"response", full.content}};
        if (!full.thinking.empty()) j["thinking"] = full.thinking;
        j.update(ordered_json{
            {"done", true}, {"done_reason", scheduler::done_reason_name(e.done_reason)}, {"context", e.context}});
        if (!full.logprobs.empty()) j["logprobs"] = ollama_logprobs(full.logprobs);
        add_stats(j, e.stats);
        return j;
      });
}

}  // namespace

void load_or_unload(ApiContext& ctx, const ServedModel& m, std::optional<scheduler::KeepAlive> keep_alive, Writer w,
                    std::function<ordered_json(const char*)> record) {
  if (keep_alive && *keep_alive == scheduler::KeepAlive(0)) {
    ctx.scheduler.unload(m.spec.key);
    respond_json(w, 200, record("unload"));
    return;
  }
  auto rej = ctx.scheduler.load(m.spec, keep_alive, [w, record](Status st, scheduler::Duration) {
    if (!st) respond_error(w, 500, st.message());
    else respond_json(w, 200, record("load"));
  });
  if (rej) respond_rejection(w, kOllamaErrors, *rej);
}

void handle_generate(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
  auto r = parse_generate_request(*body);
  if (!r) return respond_error(w, 400, r.error());
  auto m = resolve_chat_model(ctx, kOllamaErrors, *r, w);
  if (!m) return;

  const std::string name = r->model;
  if (r->generate->prompt.empty() && r->generate->context.empty()) {
    return load_or_unload(ctx, *m, r->keep_alive, w, [name](const char* reason) {
      return ordered_json{
          {"model", name}, {"created_at", now_rfc3339()}, {"response", ""}, {"done", true}, {"done_reason", reason}};
    });
  }

  auto jobs = prepare_chat_jobs(ctx, kOllamaErrors, *m, *r, *qos, w);
  if (!jobs) return;
  ChoiceJob& c = jobs->front();  // Ollama has no n: one choice
  auto cs = generate_stream(w, r->stream, name);
  read_output_with(*cs, *c.job, std::move(c.reading));
  attach(c.job, w, cs);
  if (auto rej = ctx.scheduler.submit(m->spec, c.job, r->keep_alive)) respond_rejection(w, kOllamaErrors, *rej);
}

}  // namespace corral::server
