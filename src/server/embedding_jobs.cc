#include "server/embedding_jobs.h"

namespace corral::server {

void run_embeddings(ApiContext& ctx, const ServedModel& m, EmbedRequest req, Writer w, const ErrorShape& errors,
                    std::function<ordered_json(EmbedGather&)> answer) {
  auto tok = ctx.scheduler.tokenizer_for(m.spec);
  if (!tok) return respond_status(w, errors, tok.status());
  auto g = std::make_shared<EmbedGather>();
  g->vectors.resize(req.inputs.size());
  g->remaining = static_cast<int>(req.inputs.size());
  std::vector<std::shared_ptr<scheduler::Job>> jobs;
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    auto job = std::make_shared<scheduler::Job>();
    job->kind = scheduler::JobKind::kEmbedding;
    job->options = req.options.job;
    job->options.embed_normalize = req.normalize;
    job->options.embed_truncate = req.truncate;
    job->prompt.tokens = (*tok)->encode(req.inputs[i], /*add_special=*/true, /*parse_special=*/false);
    req.qos.apply(*job);
    job->on_event = [g, i, w, answer, errors](const scheduler::JobEvent& e) {
      if (e.type == scheduler::JobEvent::Type::kText) return;
      std::lock_guard<std::mutex> lk(g->mu);
      if (g->failed) return;
      if (e.type == scheduler::JobEvent::Type::kError) {
        g->failed = true;
        // A deadline that passed, a full KV cache: a 503 with Retry-After, as a refusal.
        if (e.retry_after_seconds > 0)
          respond_rejection(w, errors, scheduler::Rejection{e.error, e.retry_after_seconds});
        else respond_status(w, errors, e.error);
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
  // Weak: each job's callback holds the writer, so owning the jobs here would be a cycle
  // (writer -> callback -> jobs -> writer) that leaks the whole request (LeakSanitizer found it).
  std::vector<std::weak_ptr<scheduler::Job>> weak(jobs.begin(), jobs.end());
  w->on_client_gone([weak = std::move(weak)] {
    for (const auto& wj : weak)
      if (auto j = wj.lock()) j->cancel();
  });
  for (auto& job : jobs) {
    if (auto rej = ctx.scheduler.submit(m.spec, job, req.keep_alive)) {
      std::lock_guard<std::mutex> lk(g->mu);
      if (!g->failed) {
        g->failed = true;
        respond_rejection(w, errors, *rej);
      }
      for (auto& j : jobs) j->cancel();
      return;
    }
  }
}

}  // namespace corral::server
