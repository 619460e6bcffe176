// POST /api/create: validates the request on the io thread (errors are plain 400s, as Ollama
// answers them before streaming), then builds the model on a background job while its status
// records stream back.
#include <spdlog/spdlog.h>

#include "server/manage/handlers.h"
#include "server/progress_stream.h"
#include "store/create.h"

namespace corral::server {

void handle_create(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  auto spec = parse_create_request(*body);
  if (!spec) return respond_error(w, 400, spec.error());
  // Uploaded files must be in the store before the create starts (the client uploads them with
  // POST /api/blobs first), so a missing one is the request's fault.
  for (const std::string& from : spec->modelfile.from) {
    if (from.empty() || from[0] != '@') continue;
    auto d = store::Digest::parse(std::string_view(from).substr(1));
    if (d && !ctx.store.has_blob(*d))
      return respond_error(
          w, 400, fmt::format("blob {} not found; upload it with POST /api/blobs/{} first", d->str(), d->str()));
  }

  auto progress = std::make_shared<ProgressStream>(w, spec->stream);
  const std::string what = "create " + spec->name;
  const bool started = ctx.jobs.run(what, [&ctx, spec = std::move(*spec), progress] {
    store::CreateOptions opts;  // allow_file_paths stays off: no request may name a file
    opts.progress = [&progress](const store::Progress& p) {
      progress->report(p.status, p.digest, p.total, p.completed);
    };
    auto created = store::create_model(ctx.store, spec.name, spec.modelfile, opts);
    if (!created) {
      spdlog::info("create {}: {}", spec.name, created.error());
      // Everything create_model refuses comes from the request (a bad template, a file that is
      // not GGUF, an unknown base model); disk failures are reported the same way, as Ollama
      // does once streaming has started.
      progress->fail(400, created.error());
      return;
    }
    spdlog::info("created model {}", created->display());
    progress->finish();
  });
  if (!started) progress->fail(503, kTooManyJobs);
}

}  // namespace corral::server
