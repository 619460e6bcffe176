// POST /api/embed and the legacy POST /api/embeddings: the final hidden state of the last
// input token (after the output norm), L2-normalised for /api/embed, as Ollama's llama.cpp
// runner returns it for models without a pooling layer.
#include "server/embedding_jobs.h"
#include "server/ollama/handlers.h"
#include "server/ollama/request.h"
#include "server/request_fields.h"
#include "server/request_options.h"

namespace corral::server {

void handle_embed(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  auto common = parse_ollama_request(*body, OllamaEndpoint::kEmbed);
  if (!common) return respond_error(w, 400, common.error());
  const OllamaRequest& c = *common;
  const std::string name = c.model;
  std::vector<std::string> inputs;
  if (auto it = body->find("input"); it != body->end() && !it->is_null()) {
    if (it->is_string()) inputs.push_back(it->get<std::string>());
    else if (it->is_array()) {
      for (const auto& x : *it) {
        if (!x.is_string()) return respond_error(w, 400, "input must be a string or an array of strings");
        inputs.push_back(x.get<std::string>());
      }
    } else {
      return respond_error(w, 400, "input must be a string or an array of strings");
    }
  }
  bool truncate = true;
  if (Status s = read_bool(*body, "truncate", &truncate); !s) return respond_error(w, 400, s.message());
  auto resolved = resolve_or_respond(ctx, name, w);
  if (!resolved) return;
  const ServedModel& m = *resolved;
  if (inputs.empty()) {
    return load_or_unload(ctx, m, c.keep_alive, w, [name](const char*) {
      return ordered_json{{"model", name}, {"embeddings", ordered_json::array()}};
    });
  }
  auto opts = options_or_respond(m, c, w);
  if (!opts) return;
  EmbedRequest er{.inputs = std::move(inputs), .options = *opts, .truncate = truncate, .keep_alive = c.keep_alive};
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
  auto common = parse_ollama_request(*body, OllamaEndpoint::kEmbeddings);
  if (!common) return respond_error(w, 400, common.error());
  const OllamaRequest& c = *common;
  std::string prompt;
  if (Status s = read_string(*body, "prompt", &prompt); !s) return respond_error(w, 400, s.message());
  auto resolved = resolve_or_respond(ctx, c.model, w);
  if (!resolved) return;
  const ServedModel& m = *resolved;
  if (prompt.empty()) return respond_json(w, 200, ordered_json{{"embedding", ordered_json::array()}});
  auto opts = options_or_respond(m, c, w);
  if (!opts) return;
  EmbedRequest er{.inputs = {prompt}, .options = *opts, .normalize = false, .keep_alive = c.keep_alive};
  run_embeddings(ctx, m, std::move(er), w, kOllamaErrors, [](EmbedGather& g) {
    return ordered_json{{"embedding", g.vectors[0]}};
  });
}

}  // namespace corral::server
