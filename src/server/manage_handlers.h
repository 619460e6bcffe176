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
inline constexpr const char* kTooManyJobs = "server busy, too many model creates and uploads in progress; try again later";

void handle_create(ApiContext& ctx, http::Request&& req, Writer w);       // POST /api/create
void handle_copy(ApiContext& ctx, http::Request&& req, Writer w);         // POST /api/copy
void handle_delete(ApiContext& ctx, http::Request&& req, Writer w);       // DELETE /api/delete
void handle_head_blob(ApiContext& ctx, http::Request&& req, Writer w);    // HEAD /api/blobs/:digest
void handle_upload_blob(ApiContext& ctx, http::Request&& req,             // POST /api/blobs/:digest
                        std::shared_ptr<http::BodyReader> body, Writer w);

// A /api/create request turned into what store::create_model takes.
struct CreateSpec {
  std::string name;
  store::Modelfile modelfile;
  std::string base_dir;  // what FROM paths are relative to
  bool stream = true;
};
// Reads Ollama's current request shape ({"model", "from" | "files", "template", "system",
// "parameters", "messages", "license", ...}) or the legacy one ({"name", "modelfile", "path"}).
// Every error is the client's (400). `blobs_dir` anchors "from": a model name must never be
// looked up as a file in the server's working directory.
Result<CreateSpec> parse_create_request(const ordered_json& body, const std::string& blobs_dir);

}  // namespace corral::server
