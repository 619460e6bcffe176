#include "server/completion_jobs.h"

#include <algorithm>

#include "server/prompt_builder.h"

namespace corral::server {

Result<RequestOptions> options_for(const ServedModel& m, const nlohmann::ordered_json& request_options) {
  RequestOptions opts;
  if (Status s = apply_options(m.params, &opts); !s) return Status::internal("model parameters: " + s.message());
  if (Status s = apply_options(request_options, &opts); !s) return s.with_code(StatusCode::kInvalidArgument);
  return opts;
}

Status prepare_job(ApiContext& ctx, const ServedModel& m, scheduler::Job& job, const PrepareFn& prepare,
                   const FilterFactory& filter, std::string* rendered_prompt) {
  CORRAL_ASSIGN_OR_RETURN(std::shared_ptr<const Tokenizer> tok, ctx.scheduler.tokenizer_for(m.spec));
  auto prompt = prepare(*tok, ctx.scheduler.num_ctx_for(m.spec, job.options.num_ctx), rendered_prompt);
  if (!prompt) return prompt.status().with_code(StatusCode::kInvalidArgument);
  job.prompt = std::move(prompt).value();
  if (filter) {
    auto f = filter(*tok);
    if (!f) return f.status().with_code(StatusCode::kInvalidArgument);
    job.filter = std::move(f).value();
  }
  return Status::ok();
}

std::vector<std::string> stops_for(const RequestOptions& opts, const ServedModel& m) {
  return opts.stop_set ? opts.stop : m.template_stops;
}

namespace {

// Whatever exception slips through preparing a prompt (a bug, never an expected input) fails
// this one request instead of the server.
PrepareFn guarded(PrepareFn f) {
  return [f = std::move(f)](const Tokenizer& tok, int64_t num_ctx,
                            std::string* rendered) -> Result<scheduler::PreparedPrompt> {
    try {
      return f(tok, num_ctx, rendered);
    } catch (const std::exception& e) { return Status::errorf("preparing the prompt failed: {}", e.what()); }
  };
}

}  // namespace

PrepareFn chat_prepare(const ServedModel& m, const std::vector<ChatMessage>& messages, nlohmann::json tools,
                       ThinkOption think, std::vector<std::string> stops) {
  std::vector<ChatMessage> all;
  for (const auto& mm : m.resolved.messages) all.push_back({.role = mm.role, .content = mm.content});
  all.insert(all.end(), messages.begin(), messages.end());
  const bool has_system = std::any_of(all.begin(), all.end(), [](const ChatMessage& x) { return x.role == "system"; });
  if (!has_system && m.resolved.system && !m.resolved.system->empty())
    all.insert(all.begin(), ChatMessage{.role = "system", .content = *m.resolved.system});
  return guarded([all = std::move(all), tools = std::move(tools), think = std::move(think), tmpl = m.tmpl,
                  stops = std::move(stops)](const Tokenizer& tok, int64_t num_ctx,
                                            std::string* rendered) -> Result<scheduler::PreparedPrompt> {
    scheduler::PreparedPrompt p;
    p.stop = stops;
    CORRAL_ASSIGN_OR_RETURN(p.tokens, chat_prompt(tok, *tmpl, all, tools, think, num_ctx, rendered));
    return p;
  });
}

PrepareFn generate_prepare(GeneratePrompt req, std::shared_ptr<const GoTemplate> tmpl, std::vector<std::string> stops) {
  return guarded([req = std::move(req), tmpl = std::move(tmpl), stops = std::move(stops)](
                     const Tokenizer& tok, int64_t, std::string* rendered) -> Result<scheduler::PreparedPrompt> {
    scheduler::PreparedPrompt p;
    p.stop = stops;
    p.tokens = req.context;
    const bool first = req.context.empty();  // BOS only at the very start of a conversation
    if (req.raw) {
      // Raw: the prompt is the whole model input, specials included (Ollama's raw mode).
      auto ids = tok.encode(req.prompt, first, /*parse_special=*/true);
      p.tokens.insert(p.tokens.end(), ids.begin(), ids.end());
      p.render_special = false;
      return p;
    }
    ChatTemplateInput in;
    if (!req.suffix.empty()) {
      in.prompt = req.prompt;
      in.suffix = req.suffix;
    } else {
      if (!req.system.empty()) in.messages.push_back({.role = "system", .content = req.system});
      in.messages.push_back({.role = "user", .content = req.prompt});
    }
    in.think = req.think;
    CORRAL_ASSIGN_OR_RETURN(std::vector<int32_t> ids, render_and_tokenize(tok, *tmpl, in, first, rendered));
    p.tokens.insert(p.tokens.end(), ids.begin(), ids.end());
    return p;
  });
}

}  // namespace corral::server
