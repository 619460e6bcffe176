// HEAD /api/blobs/:digest and POST /api/blobs/:digest. An upload streams from the socket into a
// store::BlobWriter on a background job: hashed and written as it arrives, never held in
// memory, and kept only if its sha256 matches the digest in the URL.
#include <spdlog/spdlog.h>

#include "server/manage/handlers.h"
#include "store/digest.h"

namespace corral::server {
namespace {

// Ollama's message for a digest that is not "sha256:<64 hex>".
constexpr const char* kInvalidDigest = "invalid digest format";

}  // namespace

void handle_head_blob(ApiContext& ctx, http::Request&& req, Writer w) {
  const std::string param(req.param("digest"));
  auto d = store::Digest::parse(param);
  if (!d) return respond_error(w, 400, kInvalidDigest);
  if (!ctx.store.has_blob(*d)) return respond_error(w, 404, fmt::format("blob {} not found", http::json_quote(param)));
  w->respond(200, "", "");
}

void handle_upload_blob(ApiContext& ctx, http::Request&& req, std::shared_ptr<http::BodyReader> body, Writer w) {
  const std::string param(req.param("digest"));
  auto d = store::Digest::parse(param);
  if (!d) return respond_error(w, 400, kInvalidDigest);
  // Ollama answers an upload of a blob it already has at once, without reading the body.
  if (ctx.store.has_blob(*d)) return w->respond(200, "", "");

  const bool started = ctx.jobs.run("upload " + d->str(), [&ctx, digest = *d, body = std::move(body), w] {
    auto writer = ctx.store.begin_blob();
    if (!writer) return respond_error(w, 500, writer.error());
    for (;;) {
      auto piece = body->read();
      if (!piece) {
        // The client went away or sent a broken body; the writer deletes its temp file.
        spdlog::info("upload {}: {}", digest.str(), piece.error());
        return respond_error(w, 400, piece.error());
      }
      if (piece->empty()) break;
      if (Status s = writer->append(piece->data(), piece->size()); !s) return respond_error(w, 500, s.message());
    }
    auto written = writer->commit(digest);
    // A mismatch is the client's: nothing was kept (commit removed the temp file).
    if (!written)
      return respond_error(w, written.error().rfind("digest mismatch", 0) == 0 ? 400 : 500, written.error());
    spdlog::info("blob {} uploaded ({} bytes)", digest.str(), written->size);
    w->respond(201, "", "");
  });
  if (!started) respond_error(w, 503, kTooManyJobs);
}

}  // namespace corral::server
