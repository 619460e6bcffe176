// POST /api/generate
#include "sampling/structured_output.h"
#include "server/completion_jobs.h"
#include "server/completion_stream.h"
#include "server/ollama_handlers.h"
#include "server/request_options.h"

namespace corral::server {
namespace {

struct GenerateRequest {
  std::string model, prompt, suffix, system;
  bool has_system = false;
  std::optional<std::string> template_override;
  std::vector<int32_t> context;
  bool stream = true, raw = false;
  ordered_json format;
  ordered_json options;
  std::optional<scheduler::KeepAlive> keep_alive;
  ThinkOption think;
};

Result<GenerateRequest> parse(const ordered_json& b) {
  GenerateRequest r;
  auto str = [&](const char* key, std::string* out) -> Status {
    auto it = b.find(key);
    if (it == b.end() || it->is_null()) return Status::ok();
    if (!it->is_string()) return Status::errorf("{} must be a string", key);
    *out = it->get<std::string>();
    return Status::ok();
  };
  CORRAL_RETURN_IF_ERROR(str("model", &r.model));
  CORRAL_RETURN_IF_ERROR(str("prompt", &r.prompt));
  CORRAL_RETURN_IF_ERROR(str("suffix", &r.suffix));
  CORRAL_RETURN_IF_ERROR(reject_images(b));
  if (b.contains("system") && !b["system"].is_null()) {
    CORRAL_RETURN_IF_ERROR(str("system", &r.system));
    r.has_system = true;
  }
  if (b.contains("template") && b["template"].is_string() && !b["template"].get<std::string>().empty())
    r.template_override = b["template"].get<std::string>();
  if (auto it = b.find("context"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) return Status::error("context must be an array of token ids");
    for (const auto& v : *it) {
      if (!v.is_number_integer()) return Status::error("context must be an array of token ids");
      const int64_t id = v.get<int64_t>();
      if (id < 0 || id > INT32_MAX) return Status::errorf("context holds an invalid token id {}", id);
      r.context.push_back(static_cast<int32_t>(id));
    }
  }
  if (auto it = b.find("stream"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) return Status::error("stream must be a boolean");
    r.stream = it->get<bool>();
  }
  if (auto it = b.find("raw"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) return Status::error("raw must be a boolean");
    r.raw = it->get<bool>();
  }
  if (auto it = b.find("format"); it != b.end()) r.format = *it;
  if (auto it = b.find("options"); it != b.end()) r.options = *it;
  if (auto it = b.find("think"); it != b.end() && !it->is_null()) {
    if (it->is_boolean()) r.think.enabled = it->get<bool>();
    else if (it->is_string()) r.think.level = it->get<std::string>();
  }
  CORRAL_ASSIGN_OR_RETURN(r.keep_alive, parse_keep_alive_field(b));
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
  auto r = parse(*body);
  if (!r) return respond_error(w, 400, r.error());
  auto resolved = ctx.resolver.resolve(r->model);
  if (auto* err = std::get_if<ResolveError>(&resolved)) return respond_error(w, err->http_status, err->message);
  ServedModel m = std::get<ServedModel>(std::move(resolved));
  const std::string name = r->model;

  if (r->prompt.empty() && r->context.empty()) {
    return load_or_unload(ctx, m, r->keep_alive, w, [name](const char* reason) {
      return ordered_json{{"model", name}, {"created_at", now_rfc3339()}, {"response", ""}, {"done", true},
                          {"done_reason", reason}};
    });
  }

  RequestOptions opts;
  if (Status s = apply_options(m.params, &opts); !s) return respond_error(w, 500, "model parameters: " + s.message());
  if (Status s = apply_options(r->options, &opts); !s) return respond_error(w, 400, s.message());
  auto program = sampling::program_for_format(r->format);
  if (!program) return respond_error(w, 400, program.error());

  std::shared_ptr<const GoTemplate> tmpl = m.tmpl;
  if (r->template_override) {
    auto t = GoTemplate::parse(*r->template_override);
    if (!t) return respond_error(w, 400, "template error: " + t.error());
    tmpl = std::make_shared<const GoTemplate>(std::move(t).value());
  }
  const std::string system = r->has_system ? r->system : m.resolved.system.value_or("");
  std::vector<std::string> stops = stops_for(opts, m);

  const auto keep_alive = r->keep_alive;
  const bool stream = r->stream;
  auto job = std::make_shared<scheduler::Job>();
  job->options = opts.job;
  job->options.want_context = true;
  job->make_filter = ctx.filter_factory(m.spec.key + "@" + m.spec.digest, *program);
  job->prepare = generate_prepare(GeneratePrompt{.prompt = std::move(r->prompt),
                                                 .suffix = std::move(r->suffix),
                                                 .system = system,
                                                 .context = std::move(r->context),
                                                 .raw = r->raw,
                                                 .think = r->think},
                                  tmpl, stops);

  auto cs = std::make_shared<CompletionStream>(
      w, stream,
      [name](const std::string& text) {
        return ordered_json{{"model", name}, {"created_at", now_rfc3339()}, {"response", text}, {"done", false}};
      },
      [name](const scheduler::JobEvent& e, const std::string& full) {
        ordered_json j{{"model", name}, {"created_at", now_rfc3339()}, {"response", full}, {"done", true},
                       {"done_reason", scheduler::done_reason_name(e.done_reason)}, {"context", e.context}};
        add_stats(j, e.stats);
        return j;
      });
  attach(job, w, cs);
  if (auto rej = ctx.scheduler.submit(m.spec, job, keep_alive)) respond_rejection(w, *rej);
}

}  // namespace corral::server
