// POST /v1/messages/count_tokens: the tokens the prompt of the same /v1/messages request would
// take, counted with the model's own tokenizer and template (system prompt, tools, thinking and
// the model's MESSAGEs included), so it equals that request's usage.input_tokens. Ollama
// estimates len/4; nothing is generated and no model is loaded, only its tokenizer.
#include <cstdint>
#include <limits>

#include "server/anthropic/common.h"
#include "server/anthropic/handlers.h"
#include "server/anthropic/request.h"
#include "server/chat_jobs.h"

namespace corral::server::anthropic {

void handle_count_tokens(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, kErrors, 400, body.error());
  auto r = parse_request(*body, RequestKind::kCountTokens);
  if (!r) return respond_error(w, kErrors, 400, r.error());
  auto m = resolve_or_respond(ctx, kErrors, r->chat.model, w);
  if (!m) return;
  if (Status st = settle_for_model(*m, r->chat); !st) return respond_error(w, kErrors, 400, st.message());
  auto tok = ctx.scheduler.tokenizer_for(m->spec);
  if (!tok) return respond_status(w, kErrors, tok.status());
  // No context limit: the whole conversation is counted, none of it dropped to fit.
  auto prompt = chat_prepare(*m, r->chat.messages, r->chat.tools, r->chat.think, {})(
      **tok, std::numeric_limits<int64_t>::max(), nullptr);
  if (!prompt) return respond_error(w, kErrors, 400, prompt.error());
  respond_json(w, 200, ordered_json{{"input_tokens", prompt->tokens.size()}});
}

}  // namespace corral::server::anthropic
