// POST /v1/messages: an Anthropic Messages request becomes the same job /api/chat runs. Tools
// are rendered through the model's template; the output is read back into thinking, text and
// tool_use blocks (chat_output.h); tool_choice "any" / "tool" constrains decoding to one call
// whose input validates against the tool's input_schema.
#include "sampling/structured_output.h"
#include "server/anthropic/common.h"
#include "server/anthropic/handlers.h"
#include "server/anthropic/request.h"
#include "server/anthropic/stream.h"
#include "server/chat_output.h"
#include "server/completion_jobs.h"
#include "server/model_capabilities.h"
#include "server/request_qos.h"

namespace corral::server::anthropic {

void handle_messages(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
  auto r = parse_request(*body, RequestKind::kCreate);
  if (!r) return respond_error(w, 400, r.error());
  std::shared_ptr<const sampling::JsonProgram> program;
  if (r->choice.forces_call()) {
    auto p = sampling::program_for_format(forced_call_schema(r->tools, r->choice));
    if (!p) return respond_error(w, 400, p.error());
    program = std::move(p).value();
  }

  auto m = resolve_or_respond(ctx, r->model, w);
  if (!m) return;
  if (Status st = check_completion(*m, r->model, "chat"); !st) return respond_error(w, 400, st.message());
  if (Status st = settle_for_model(*m, *r); !st) return respond_error(w, 400, st.message());
  auto opts = options_for(*m, r->options);
  if (!opts) return respond_status(w, opts.status());

  auto job = std::make_shared<scheduler::Job>();
  qos->apply(*job);
  job->options = opts->job;
  std::string rendered;
  if (Status st = prepare_job(ctx, *m, *job, chat_prepare(*m, r->messages, r->tools, r->think, stops_for(*opts, *m)),
                              ctx.filter_factory(m->spec.key + "@" + m->spec.digest, program), &rendered);
      !st)
    return respond_status(w, st);
  ResponseInfo info{.id = next_message_id(),
                    .model = r->model,
                    .input_tokens = static_cast<int64_t>(job->prompt.tokens.size()),
                    .stop_sequences = r->stop_sequences};
  submit_message(ctx, *m, job, std::move(info), r->stream, w,
                 output_reading(*m, r->tools, r->think, r->choice, rendered));
}

}  // namespace corral::server::anthropic
