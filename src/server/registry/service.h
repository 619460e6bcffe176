// The registry side of `corral serve`: /api/pull and /api/push, and the Docker registry v2
// endpoints (/v2/...) over the server's own store, so one corral can pull from another.
//
// Every handler returns at once and does its disk and network work on a worker thread of its
// own (transfers are few and long; a stalled one must not hold up the rest). Workers keep the
// service alive through a shared_ptr and own a copy of the store handle (just its root path),
// so nothing they touch dies with the App; a client that goes away cancels its worker.
//
// Names on /v2/ are the store's names under the default host: /v2/library/tiny/manifests/latest
// is the model `corral list` shows as tiny:latest, whatever host a client used to reach us.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "registry/upload_sessions.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"
#include "store/store.h"

namespace corral::server {

class RegistryService {
 public:
  explicit RegistryService(store::Store store);

  const store::Store& store() const { return store_; }
  registry::UploadSessions& uploads() { return uploads_; }

  // Runs `job` on a new thread; false when kMaxWorkers are busy (the caller answers 503).
  bool spawn(std::function<void()> job);

  // CORRAL_REGISTRY_SERVE_BPS: caps each blob response at this many bytes per second (0: no
  // cap). For tests that must interrupt a transfer midway, and for sharing a slow link.
  int64_t serve_bytes_per_second() const { return serve_bps_; }
  // Whether a client at `remote_addr` may write (push) into the store: by default only
  // loopback clients may, CORRAL_REGISTRY_PUSH=any lets every client, =none nobody.
  bool may_push(std::string_view remote_addr) const;

 private:
  const store::Store store_;
  registry::UploadSessions uploads_;
  int64_t serve_bps_ = 0;
  enum class PushPolicy { kLoopback, kAny, kNone } push_policy_ = PushPolicy::kLoopback;
};

// (The same alias as api_common.h's; redeclaring an alias of the same type is allowed.)
using Writer = std::shared_ptr<http::ResponseWriter>;
using Service = std::shared_ptr<RegistryService>;

// The Docker registry error body: {"errors":[{"code":..,"message":..}]}.
void respond_registry_error(const Writer& w, int status, std::string_view code, std::string_view message);

// /api/pull, /api/push (api.cc)
void handle_pull(const Service& svc, http::Request&& req, Writer w);
void handle_push(const Service& svc, http::Request&& req, Writer w);
// GET/HEAD /v2/, manifests, blobs (serve.cc)
void handle_v2_root(const Service& svc, http::Request&& req, Writer w);
void handle_get_manifest(const Service& svc, http::Request&& req, Writer w);
void handle_get_blob(const Service& svc, http::Request&& req, Writer w);
// Uploads and manifest PUT (upload.cc)
void handle_upload_start(const Service& svc, http::Request&& req, Writer w);
void handle_upload_patch(const Service& svc, http::Request&& req, Writer w);
void handle_upload_finish(const Service& svc, http::Request&& req, Writer w);
void handle_upload_status(const Service& svc, http::Request&& req, Writer w);
void handle_upload_cancel(const Service& svc, http::Request&& req, Writer w);
void handle_put_manifest(const Service& svc, http::Request&& req, Writer w);

}  // namespace corral::server
