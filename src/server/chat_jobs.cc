#include "server/chat_jobs.h"

#include <cstdint>
#include <utility>

#include "sampling/structured_output.h"
#include "server/model_capabilities.h"

namespace corral::server {
namespace {

// The structured-output program in the syntax the request used (null: free text).
Result<std::shared_ptr<const sampling::JsonProgram>> program_for(const OutputFormat& f) {
  if (f.syntax == OutputFormat::Syntax::kResponseFormat) return sampling::program_for_response_format(f.value);
  return sampling::program_for_format(f.value);
}

}  // namespace

scheduler::JobOptions choice_options(const scheduler::JobOptions& request, int top_logprobs, int choice) {
  scheduler::JobOptions o = request;
  o.top_logprobs = top_logprobs;
  // Unsigned, then kept non-negative: a seed near the top of the range wraps instead of
  // overflowing (-1 means "no seed").
  if (o.sampling.seed >= 0 && choice > 0)
    o.sampling.seed = static_cast<int64_t>((static_cast<uint64_t>(o.sampling.seed) + static_cast<uint64_t>(choice)) &
                                           static_cast<uint64_t>(INT64_MAX));
  return o;
}

std::optional<ServedModel> resolve_chat_model(ApiContext& ctx, const ErrorShape& shape, const ChatRequest& r,
                                              const Writer& w) {
  auto m = resolve_or_respond(ctx, shape, r.model, w);
  if (!m) return std::nullopt;
  if (Status st = check_completion(*m, r.model, r.kind()); !st) {
    respond_error(w, shape, 400, st.message());
    return std::nullopt;
  }
  return m;
}

Status settle_for_model(const ServedModel& m, ChatRequest& r) {
  const TemplateCapabilities caps = template_capabilities(m);
  if (r.drop_unsupported_thinking && !caps.thinking) r.think = ThinkOption{};
  if (r.generate && !r.generate->suffix.empty() && !caps.insert) return Status::error(does_not_support(m, "insert"));
  CORRAL_RETURN_IF_ERROR(check_capabilities(m, r.model, !r.tools.is_null(), r.tool_choice, r.think));
  if (r.tool_choice.mode == ToolChoice::Mode::kNone) r.tools = nullptr;
  return Status::ok();
}

Result<PrepareFn> prompt_for(const ServedModel& m, const ChatRequest& r, std::vector<std::string> stops) {
  if (!r.generate) return chat_prepare(m, r.messages, r.tools, r.think, std::move(stops));
  const GenerateInput& g = *r.generate;
  std::shared_ptr<const GoTemplate> tmpl = m.tmpl;
  if (g.template_override) {
    auto t = GoTemplate::parse(*g.template_override);
    if (!t) return Status::error("template error: " + t.error());
    tmpl = std::make_shared<const GoTemplate>(std::move(t).value());
  }
  return generate_prepare(GeneratePrompt{.prompt = g.prompt,
                                         .suffix = g.suffix,
                                         .system = g.system ? *g.system : m.resolved.system.value_or(""),
                                         .context = g.context,
                                         .raw = g.raw,
                                         .think = r.think},
                          tmpl, std::move(stops));
}

std::optional<std::vector<ChoiceJob>> prepare_chat_jobs(ApiContext& ctx, const ErrorShape& shape, const ServedModel& m,
                                                        ChatRequest& r, const RequestQos& qos, const Writer& w) {
  if (Status st = settle_for_model(m, r); !st) {
    respond_error(w, shape, 400, st.message());
    return std::nullopt;
  }
  auto opts = options_for(m, r.options);
  if (!opts) {
    respond_status(w, shape, opts.status());
    return std::nullopt;
  }
  auto program = program_for(r.format);
  if (!program) {
    respond_error(w, shape, 400, program.error());
    return std::nullopt;
  }
  auto prepare = prompt_for(m, r, stops_for(*opts, m));
  if (!prepare) {
    respond_error(w, shape, 400, prepare.error());
    return std::nullopt;
  }
  // n choices: one job each, prepared alike (the engine shares their prompt's prefill).
  std::vector<ChoiceJob> choices;
  for (int i = 0; i < r.n; ++i) {
    auto job = std::make_shared<scheduler::Job>();
    qos.apply(*job);
    job->options = choice_options(opts->job, r.top_logprobs, i);
    job->options.want_context = r.generate.has_value();  // generate answers with its `context`
    std::string rendered;
    if (Status st = prepare_job(ctx, m, *job, *prepare, ctx.filter_factory(m.spec.key + "@" + m.spec.digest, *program),
                                &rendered);
        !st) {
      respond_status(w, shape, st);
      return std::nullopt;
    }
    // Generate reads thinking only (no tools: r.tools is null), in raw mode too, as Ollama's
    // generate handler does.
    choices.push_back(ChoiceJob{job, output_reading(m, r.tools, r.think, r.tool_choice, rendered)});
  }
  return choices;
}

}  // namespace corral::server
