// POST /api/embed and the legacy POST /api/embeddings: the final hidden state of the last
// input token (after the output norm), L2-normalised for /api/embed, as Ollama's llama.cpp
// runner returns it for models without a pooling layer.
#include <atomic>

#include "server/completion_stream.h"
#include "server/ollama_handlers.h"
#include "server/request_options.h"

namespace corral::server {
namespace {

// Gathers the embeddings of several inputs submitted as separate jobs (so they batch
// together) and answers once all are done.
struct EmbedGather {
  std::mutex mu;
  std::vector<std::vector<float>> vectors;
  int remaining = 0;
  bool failed = false;
  int64_t prompt_tokens = 0;
  scheduler::Clock::duration load{};
  scheduler::Clock::time_point t0 = scheduler::Clock::now();
};

void run_embeddings(ApiContext& ctx, const ServedModel& m, std::vector<std::string> inputs, RequestOptions opts,
                    bool truncate, bool normalize, std::optional<scheduler::KeepAlive> keep_alive, Writer w,
                    std::function<ordered_json(EmbedGather&)> answer) {
  auto g = std::make_shared<EmbedGather>();
  g->vectors.resize(inputs.size());
  g->remaining = static_cast<int>(inputs.size());
  std::vector<std::shared_ptr<scheduler::Job>> jobs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto job = std::make_shared<scheduler::Job>();
    job->kind = scheduler::JobKind::kEmbedding;
    job->options = opts.job;
    job->options.embed_normalize = normalize;
    job->options.embed_truncate = truncate;
    job->prepare = [text = std::move(inputs[i])](const Tokenizer& tok, int64_t) -> Result<scheduler::PreparedPrompt> {
      scheduler::PreparedPrompt p;
      p.tokens = tok.encode(text, /*add_special=*/true, /*parse_special=*/false);
      return p;
    };
    job->on_event = [g, i, w, answer](const scheduler::JobEvent& e) {
      if (e.type == scheduler::JobEvent::Type::kText) return;
      std::lock_guard<std::mutex> lk(g->mu);
      if (g->failed) return;
      if (e.type == scheduler::JobEvent::Type::kError) {
        g->failed = true;
        respond_error(w, e.http_status, e.error);
        return;
      }
      if (e.done_reason == scheduler::DoneReason::kCancelled) {
        g->failed = true;
        w->finish();
        return;
      }
      g->vectors[i] = e.embedding;
      g->prompt_tokens += e.stats.prompt_tokens;
      g->load = std::max(g->load, e.stats.load_duration);
      if (--g->remaining == 0) respond_json(w, 200, answer(*g));
    };
    jobs.push_back(job);
  }
  w->on_client_gone([jobs] {
    for (auto& j : jobs) j->cancel();
  });
  for (auto& job : jobs) {
    if (auto rej = ctx.scheduler.submit(m.spec, job, keep_alive)) {
      std::lock_guard<std::mutex> lk(g->mu);
      if (!g->failed) {
        g->failed = true;
        respond_rejection(w, *rej);
      }
      for (auto& j : jobs) j->cancel();
      return;
    }
  }
}

}  // namespace

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
  run_embeddings(ctx, m, std::move(inputs), opts, truncate, /*normalize=*/true, *keep_alive, w, [name](EmbedGather& g) {
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
  run_embeddings(ctx, m, {prompt}, opts, /*truncate=*/true, /*normalize=*/false, *keep_alive, w,
                 [](EmbedGather& g) { return ordered_json{{"embedding", g.vectors[0]}}; });
}

}  // namespace corral::server
