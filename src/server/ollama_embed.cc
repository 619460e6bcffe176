// POST /api/embed and the legacy POST /api/embeddings: the final hidden state of the last
// input token (after the output norm), L2-normalised for /api/embed, as Ollama's llama.cpp
// runner returns it for models without a pooling layer.
#include "server/embedding_jobs.h"
#include "server/ollama_handlers.h"
#include "server/request_options.h"

namespace corral::server {

void handle_embed(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  const std::string name = body->value("model", "");
  std::vector<std::string> inputs;
  if (auto it = body->find("input"); it != body->end() && !it->is_null()) {
    if (it->is_string()) inputs.push_back(it->get<std::string>());
    else if (it->is_array()) {
      for (const auto& x : *it) {
        if (!x.is_string()) return respond_error(w, 400, "invalid input type");
        inputs.push_back(x.get<std::string>());
      }
    } else {
      return respond_error(w, 400, "invalid input type");
    }
  }
  auto keep_alive = parse_keep_alive_field(*body);
  if (!keep_alive) return respond_error(w, 400, keep_alive.error());
  auto resolved = ctx.resolver.resolve(name);
  if (auto* err = std::get_if<ResolveError>(&resolved)) return respond_error(w, err->http_status, err->message);
  const ServedModel& m = std::get<ServedModel>(resolved);
  if (inputs.empty()) {
    return load_or_unload(ctx, m, *keep_alive, w, [name](const char*) {
      return ordered_json{{"model", name}, {"embeddings", ordered_json::array()}};
    });
  }
  RequestOptions opts;
  if (Status s = apply_options(m.params, &opts); !s) return respond_error(w, 500, "model parameters: " + s.message());
  if (Status s = apply_options(body->value("options", ordered_json()), &opts); !s) return respond_error(w, 400, s.message());
  const bool truncate = body->value("truncate", true);
  EmbedRequest er{.inputs = std::move(inputs), .options = opts, .truncate = truncate, .keep_alive = *keep_alive};
  run_embeddings(ctx, m, std::move(er), w, kOllamaErrors, [name](EmbedGather& g) {
    return ordered_json{{"model", name},
                        {"embeddings", g.vectors},
                        {"total_duration", nanos(scheduler::Clock::now() - g.t0)},
                        {"load_duration", nanos(g.load)},
                        {"prompt_eval_count", g.prompt_tokens}};
  });
}

void handle_embeddings(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  const std::string name = body->value("model", "");
  if (body->contains("prompt") && !(*body)["prompt"].is_string()) return respond_error(w, 400, "prompt must be a string");
  const std::string prompt = body->value("prompt", "");
  auto keep_alive = parse_keep_alive_field(*body);
  if (!keep_alive) return respond_error(w, 400, keep_alive.error());
  auto resolved = ctx.resolver.resolve(name);
  if (auto* err = std::get_if<ResolveError>(&resolved)) return respond_error(w, err->http_status, err->message);
  const ServedModel& m = std::get<ServedModel>(resolved);
  if (prompt.empty()) return respond_json(w, 200, ordered_json{{"embedding", ordered_json::array()}});
  RequestOptions opts;
  if (Status s = apply_options(m.params, &opts); !s) return respond_error(w, 500, "model parameters: " + s.message());
  if (Status s = apply_options(body->value("options", ordered_json()), &opts); !s) return respond_error(w, 400, s.message());
  EmbedRequest er{.inputs = {prompt}, .options = opts, .normalize = false, .keep_alive = *keep_alive};
  run_embeddings(ctx, m, std::move(er), w, kOllamaErrors,
                 [](EmbedGather& g) { return ordered_json{{"embedding", g.vectors[0]}}; });
}

}  // namespace corral::server
