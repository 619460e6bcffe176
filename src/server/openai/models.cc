// GET /v1/models and GET /v1/models/{model}: the store's models in OpenAI's shape, as Ollama's
// ToListCompletion/ToModel write them (id = the name, created = the manifest's mtime,
// owned_by = the name's namespace).
#include "server/openai/common.h"
#include "server/openai/handlers.h"

namespace corral::server::openai {
namespace {

ordered_json model_object(const std::string& id, std::chrono::system_clock::time_point modified) {
  return ordered_json{{"id", id}, {"object", "model"}, {"created", unix_seconds(modified)}, {"owned_by", owned_by(id)}};
}

}  // namespace

void handle_list_models(ApiContext& ctx, http::Request&&, Writer w) {
  auto list = ctx.store.list();
  if (!list) return respond_error(w, kErrors, 500, list.error());
  ordered_json data = ordered_json::array();
  for (const auto& e : list->models) data.push_back(model_object(e.name.display(), e.modified_at));
  respond_json(w, 200, ordered_json{{"object", "list"}, {"data", data}});
}

void handle_retrieve_model(ApiContext& ctx, http::Request&& req, Writer w) {
  // A catch-all route: names may hold '/' ("hf.co/org/model:tag") as well as ':'.
  const std::string name(req.param("name"));
  auto m = resolve_or_respond(ctx, kErrors, name, w);
  if (!m) return;
  // The id is the name as asked for, as in Ollama.
  respond_json(w, 200, model_object(name, m->resolved.modified_at));
}

}  // namespace corral::server::openai
