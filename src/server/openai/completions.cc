// POST /v1/completions (OpenAI's legacy text completions): the prompt goes through the model's
// template with its SYSTEM prompt, as Ollama's FromCompleteRequest turns it into a
// /api/generate request; `suffix` asks for fill-in-the-middle.
#include "server/completion_jobs.h"
#include "server/model_capabilities.h"
#include "server/openai/common.h"
#include "server/openai/handlers.h"
#include "server/openai/request.h"
#include "server/openai/stream.h"
#include "server/request_qos.h"

namespace corral::server::openai {
namespace {

// A string, or an array holding one string; several prompts or token arrays are not supported.
Result<std::string> prompt_text(const ordered_json& b) {
  auto it = b.find("prompt");
  if (it == b.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) return (*it)[0].get<std::string>();
  if (it->is_array() && it->size() > 1 && (*it)[0].is_string())
    return Status::error("multiple prompts in 'prompt' are not supported");
  return Status::error("invalid type for 'prompt': expected a string");
}

}  // namespace

void handle_completions(ApiContext& ctx, http::Request&& req, Writer w) {
  const auto now = std::chrono::system_clock::now();
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, kErrors, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, kErrors, 400, qos.error());
  const ordered_json& b = *body;
  auto fields = parse_common_fields(b);
  if (!fields) return respond_error(w, kErrors, 400, fields.error());
  auto prompt = prompt_text(b);
  if (!prompt) return respond_error(w, kErrors, 400, prompt.error());
  std::string suffix;
  if (auto it = b.find("suffix"); it != b.end() && !it->is_null()) {
    if (!it->is_string()) return respond_error(w, kErrors, 400, "invalid type for 'suffix': expected a string");
    suffix = it->get<std::string>();
  }

  auto m = resolve_or_respond(ctx, kErrors, fields->model, w);
  if (!m) return;
  if (Status st = check_completion(*m, fields->model, "generate"); !st)
    return respond_error(w, kErrors, 400, st.message());
  auto opts = options_for(*m, fields->options);
  if (!opts) return respond_status(w, kErrors, opts.status());
  const RequestOptions& o = *opts;

  const PrepareFn prepare = generate_prepare(
      GeneratePrompt{.prompt = std::move(prompt).value(), .suffix = suffix, .system = m->resolved.system.value_or("")},
      m->tmpl, stops_for(o, *m));
  // n choices: one job each, prepared alike (the engine shares their prompt's prefill).
  std::vector<ChoiceJob> choices;
  for (int i = 0; i < fields->n; ++i) {
    auto job = std::make_shared<scheduler::Job>();
    qos->apply(*job);
    job->options = choice_options(o.job, fields->top_logprobs, i);
    if (Status st = prepare_job(ctx, *m, *job, prepare, nullptr); !st) return respond_status(w, kErrors, st);
    choices.push_back(ChoiceJob{job});
  }
  submit_completion(ctx, *m, std::move(choices),
                    ResponseInfo{.kind = ResponseInfo::Kind::kText,
                                 .id = next_id("cmpl"),
                                 .created = unix_seconds(now),
                                 .model = fields->model,
                                 .include_usage = fields->include_usage},
                    fields->stream, w);
}

}  // namespace corral::server::openai
