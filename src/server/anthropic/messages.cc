// POST /v1/messages: an Anthropic Messages request becomes the same job /api/chat runs. Tools
// are rendered through the model's template; the output is read back into thinking, text and
// tool_use blocks (chat_output.h); tool_choice "any" / "tool" constrains decoding to one call
// whose input validates against the tool's input_schema.
#include "server/anthropic/common.h"
#include "server/anthropic/handlers.h"
#include "server/anthropic/request.h"
#include "server/anthropic/stream.h"
#include "server/chat_jobs.h"
#include "server/request_qos.h"

namespace corral::server::anthropic {

void handle_messages(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, kErrors, 400, body.error());
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, kErrors, 400, qos.error());
  auto r = parse_request(*body, RequestKind::kCreate);
  if (!r) return respond_error(w, kErrors, 400, r.error());
  auto m = resolve_chat_model(ctx, kErrors, r->chat, w);
  if (!m) return;
  auto jobs = prepare_chat_jobs(ctx, kErrors, *m, r->chat, *qos, w);
  if (!jobs) return;
  ChoiceJob& c = jobs->front();  // Anthropic has no n: one choice
  ResponseInfo info{.id = next_message_id(),
                    .model = r->chat.model,
                    .input_tokens = static_cast<int64_t>(c.job->prompt.tokens.size()),
                    .stop_sequences = std::move(r->stop_sequences)};
  submit_message(ctx, *m, c.job, std::move(info), r->chat.stream, w, std::move(c.reading));
}

}  // namespace corral::server::anthropic
