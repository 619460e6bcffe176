// Model management over Ollama's API: create, copy, delete and blob uploads (Ollama's
// server/routes.go CreateHandler, CopyHandler, DeleteHandler, HeadBlobHandler,
// CreateBlobHandler), with Ollama's status codes and error texts.
#pragma once

#include <memory>

#include "server/api_common.h"
#include "server/api_context.h"
#include "server/http/body_reader.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"
#include "store/modelfile.h"

namespace corral::server {

using Writer = std::shared_ptr<http::ResponseWriter>;

// The 503 when BackgroundJobs is full (creates and uploads each hold a thread while they run).
inline constexpr const char* kTooManyJobs =
    "server busy, too many model creates and uploads in progress; try again later";

void handle_create(ApiContext& ctx, http::Request&& req, Writer w);     // POST /api/create
void handle_copy(ApiContext& ctx, http::Request&& req, Writer w);       // POST /api/copy
void handle_delete(ApiContext& ctx, http::Request&& req, Writer w);     // DELETE /api/delete
void handle_head_blob(ApiContext& ctx, http::Request&& req, Writer w);  // HEAD /api/blobs/:digest
void handle_upload_blob(ApiContext& ctx, http::Request&& req,           // POST /api/blobs/:digest
                        std::shared_ptr<http::BodyReader> body, Writer w);

// A /api/create request turned into what store::create_model takes. Every FROM in `modelfile` is
// a blob digest ("@sha256:<hex>") or a model name: never a path.
struct CreateSpec {
  std::string name;
  store::Modelfile modelfile;
  bool stream = true;
};
// Reads Ollama's request shape: {"model" (or "name"), "from" (a model name or blob digest) |
// "files" ({file name: digest of an uploaded blob}), "template", "system", "parameters",
// "messages", "license" (string or list), "renderer", "parser", "requires", "stream",
// "quantize" / "adapters" (not supported yet: an error)}. A legacy "modelfile" text is read when
// neither "from" nor "files" is given, and only if its FROMs name models or blobs. "path" and
// path-valued FROMs are refused without touching the file system. Every field of a wrong JSON
// type is an error naming it, every size is bounded; every error is the client's (400).
Result<CreateSpec> parse_create_request(const ordered_json& body);

}  // namespace corral::server
