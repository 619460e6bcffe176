// POST /api/generate
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

// /api/generate's own fields; the shared ones are in OllamaRequest.
struct GenerateRequest {
  OllamaRequest common;
  std::string prompt, suffix, system;
  bool has_system = false;
  std::optional<std::string> template_override;
  std::vector<int32_t> context;
  bool raw = false;
};

Result<GenerateRequest> parse(const ordered_json& b) {
  GenerateRequest r;
  CORRAL_ASSIGN_OR_RETURN(r.common, parse_ollama_request(b, OllamaEndpoint::kGenerate));
  CORRAL_RETURN_IF_ERROR(read_string(b, "prompt", &r.prompt));
  CORRAL_RETURN_IF_ERROR(read_string(b, "suffix", &r.suffix));
  CORRAL_RETURN_IF_ERROR(reject_images(b));
  std::optional<std::string> system;
  CORRAL_RETURN_IF_ERROR(read_string(b, "system", &system));
  if (system) {
    r.system = *system;
    r.has_system = true;
  }
  std::string tmpl;
  CORRAL_RETURN_IF_ERROR(read_string(b, "template", &tmpl));
  if (!tmpl.empty()) r.template_override = std::move(tmpl);
  CORRAL_ASSIGN_OR_RETURN(const ordered_json* context, read_array(b, "context"));
  if (context) {
    for (const auto& v : *context) {
      if (!v.is_number_integer()) return Status::error("context must be an array of token ids");
      const int64_t id = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT32_MAX} ? -1 : v.get<int64_t>();
      if (id < 0 || id > INT32_MAX) return Status::error("context holds an invalid token id");
      r.context.push_back(static_cast<int32_t>(id));
    }
  }
  CORRAL_RETURN_IF_ERROR(read_bool(b, "raw", &r.raw));
  return r;
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
  if (rej) respond_rejection(w, *rej);
}

void handle_generate(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
  auto r = parse(*body);
  if (!r) return respond_error(w, 400, r.error());
  const OllamaRequest& c = r->common;
  auto resolved = resolve_or_respond(ctx, c.model, w);
  if (!resolved) return;
  const ServedModel& m = *resolved;
  const std::string name = c.model;
  if (Status st = check_completion(m, name, "generate"); !st) return respond_error(w, 400, st.message());

  if (r->prompt.empty() && r->context.empty()) {
    return load_or_unload(ctx, m, c.keep_alive, w, [name](const char* reason) {
      return ordered_json{
          {"model", name}, {"created_at", now_rfc3339()}, {"response", ""}, {"done", true}, {"done_reason", reason}};
    });
  }

  if (!r->suffix.empty() && !template_capabilities(m).insert)
    return respond_error(w, 400, does_not_support(m, "insert"));
  ThinkOption think = c.think;
  if (Status st = check_capabilities(m, name, /*wants_tools=*/false, ToolChoice{}, think); !st)
    return respond_error(w, 400, st.message());

  auto opts_or = options_or_respond(m, c, w);
  if (!opts_or) return;
  const RequestOptions& opts = *opts_or;
  auto program = sampling::program_for_format(c.format);
  if (!program) return respond_error(w, 400, program.error());

  std::shared_ptr<const GoTemplate> tmpl = m.tmpl;
  if (r->template_override) {
    auto t = GoTemplate::parse(*r->template_override);
    if (!t) return respond_error(w, 400, "template error: " + t.error());
    tmpl = std::make_shared<const GoTemplate>(std::move(t).value());
  }
  const std::string system = r->has_system ? r->system : m.resolved.system.value_or("");
  std::vector<std::string> stops = stops_for(opts, m);

  const auto keep_alive = c.keep_alive;
  const bool stream = c.stream;
  auto job = std::make_shared<scheduler::Job>();
  qos->apply(*job);
  job->options = opts.job;
  job->options.top_logprobs = c.top_logprobs;
  job->options.want_context = true;
  const PrepareFn prepare = generate_prepare(GeneratePrompt{.prompt = std::move(r->prompt),
                                                            .suffix = std::move(r->suffix),
                                                            .system = system,
                                                            .context = std::move(r->context),
                                                            .raw = r->raw,
                                                            .think = think},
                                             tmpl, stops);
  std::string rendered;
  if (Status st =
          prepare_job(ctx, m, *job, prepare, ctx.filter_factory(m.spec.key + "@" + m.spec.digest, *program), &rendered);
      !st)
    return respond_status(w, st);

  auto cs = std::make_shared<CompletionStream>(
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
  // Generate reads thinking only (no tools), in raw mode too, as Ollama's generate handler does.
  read_output_with(*cs, *job, output_reading(m, nullptr, think, ToolChoice{}, rendered));
  attach(job, w, cs);
  if (auto rej = ctx.scheduler.submit(m.spec, job, keep_alive)) respond_rejection(w, *rej);
}

}  // namespace corral::server
