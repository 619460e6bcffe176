// POST /api/copy and DELETE /api/delete.
#include "server/manage/handlers.h"
#include "server/request_fields.h"
#include "store/model_name.h"

namespace corral::server {
namespace {

// Go's %q for the names Ollama quotes in its messages (ASCII names: a JSON string literal).
std::string go_quote(const std::string& s) { return http::json_quote(clip_for_error(s)); }

}  // namespace

void handle_copy(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  std::string source, destination;
  if (Status s = read_string(*body, "source", &source); !s) return respond_error(w, 400, s.message());
  if (Status s = read_string(*body, "destination", &destination); !s) return respond_error(w, 400, s.message());
  auto src = store::ModelName::parse(source);
  if (!src) return respond_error(w, 400, fmt::format("source {} is invalid", go_quote(source)));
  if (!store::ModelName::parse(destination))
    return respond_error(w, 400, fmt::format("destination {} is invalid", go_quote(destination)));
  if (!ctx.store.find(*src)) return respond_error(w, 404, fmt::format("model {} not found", go_quote(source)));
  if (Status s = ctx.store.copy(source, destination); !s) return respond_error(w, 500, s.message());
  w->respond(200, "", "");
}

void handle_delete(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  std::string name;
  if (Status s = read_name(*body, {"model", "name"}, &name); !s) return respond_error(w, 400, s.message());
  auto parsed = store::ModelName::parse(name);
  if (!parsed) return respond_error(w, 400, fmt::format("name {} is invalid", go_quote(name)));
  auto found = ctx.store.find(*parsed);
  if (!found) return respond_error(w, 404, fmt::format("model '{}' not found", clip_for_error(name)));
  auto removed = ctx.store.remove(name);
  if (!removed) return respond_error(w, 500, removed.error());
  // A loaded runner under that name stops taking requests and unloads once idle.
  ctx.scheduler.forget(found->full());
  w->respond(200, "", "");
}

}  // namespace corral::server
