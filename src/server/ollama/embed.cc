// POST /api/embed and the legacy POST /api/embeddings: the final hidden state of the last
// input token (after the output norm), L2-normalised for /api/embed, as Ollama's llama.cpp
// runner returns it for models without a pooling layer.
#include <algorithm>
#include <cmath>

#include "server/embedding_jobs.h"
#include "server/ollama/handlers.h"
#include "server/ollama/request.h"
#include "server/request_fields.h"
#include "server/request_options.h"
#include "server/request_qos.h"

namespace corral::server {
namespace {

// Ollama's EmbedHandler `dimensions`: a vector longer than `dims` keeps its first `dims`
// values and is L2-normalised again; 0 (the default) or a length it already fits keeps it whole.
void truncate_to_dimensions(std::vector<float>* v, int64_t dims) {
  if (dims <= 0 || static_cast<size_t>(dims) >= v->size()) return;
  v->resize(static_cast<size_t>(dims));
  double sum = 0;
  for (float x : *v) sum += static_cast<double>(x) * x;
  // Ollama's floor on the norm: an all-zero prefix stays zero instead of dividing by zero.
  const double scale = 1.0 / std::max(std::sqrt(sum), 1e-12);
  for (float& x : *v) x = static_cast<float>(x * scale);
}

// Ollama's /api/embeddings answers an unknown model through its handleScheduleError, which
// keeps the older wording.
std::string legacy_model_not_found(const std::string& name) {
  return fmt::format("model \"{}\" not found, try pulling it first", clip_for_error(name));
}

}  // namespace

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
  int64_t dimensions = 0;
  if (Status s = read_int(*body, "dimensions", &dimensions); !s) return respond_error(w, 400, s.message());
  // Ollama ignores a negative value; a request asking for one is wrong, so corral says so.
  if (dimensions < 0) return respond_error(w, 400, "dimensions must be a positive integer");
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
  auto resolved = resolve_or_respond(ctx, kOllamaErrors, name, w);
  if (!resolved) return;
  const ServedModel& m = *resolved;
  if (inputs.empty()) {
    return load_or_unload(ctx, m, c.keep_alive, w, [name](const char*) {
      return ordered_json{{"model", name}, {"embeddings", ordered_json::array()}};
    });
  }
  auto opts = options_or_respond(m, c, w);
  if (!opts) return;
  EmbedRequest er{
      .inputs = std::move(inputs), .options = *opts, .truncate = truncate, .keep_alive = c.keep_alive, .qos = *qos};
  run_embeddings(ctx, m, std::move(er), w, kOllamaErrors, [name, dimensions](EmbedGather& g) {
    for (auto& v : g.vectors) truncate_to_dimensions(&v, dimensions);
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
  auto qos = read_request_qos(req, *body, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, 400, qos.error());
  auto resolved = ctx.resolver.resolve(c.model);
  if (!resolved && resolved.code() == StatusCode::kNotFound)
    return respond_error(w, 404, legacy_model_not_found(c.model));
  if (!resolved) return respond_status(w, resolved.status());
  const ServedModel& m = *resolved;
  if (prompt.empty()) return respond_json(w, 200, ordered_json{{"embedding", ordered_json::array()}});
  auto opts = options_or_respond(m, c, w);
  if (!opts) return;
  EmbedRequest er{.inputs = {prompt}, .options = *opts, .normalize = false, .keep_alive = c.keep_alive, .qos = *qos};
  run_embeddings(ctx, m, std::move(er), w, kOllamaErrors, [](EmbedGather& g) {
    return ordered_json{{"embedding", g.vectors[0]}};
  });
}

}  // namespace corral::server
