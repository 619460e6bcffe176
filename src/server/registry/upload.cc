// The write side of the registry protocol, which `push` uses (Docker registry v2 uploads):
//   POST   /v2/<ns>/<model>/blobs/uploads/[?mount=<digest>|?digest=<digest>]   begin (202 + Location)
//   PATCH  /v2/<ns>/<model>/blobs/uploads/<id>   (Content-Range: <first>-<last>)   append
//   PUT    /v2/<ns>/<model>/blobs/uploads/<id>?digest=<digest>                     verify, commit
//   GET / DELETE on an upload: its state / abandon it
//   PUT    /v2/<ns>/<model>/manifests/<tag>      validated; every blob must be stored, sizes matching
// Blobs enter the store only through a verified commit (registry::UploadSessions). Who may
// write is RegistryService::may_push (loopback clients by default). Each PATCH body is one
// request body, so its size is bounded by the server's request limit.
#include <sys/stat.h>

#include <fmt/format.h>

#include "base/json_depth.h"
#include "registry/manifest_check.h"
#include "server/api_common.h"
#include "server/registry/service.h"

namespace corral::server {

namespace {

using registry::UploadError;
using registry::UploadResult;

std::optional<std::string> repository_of(const http::Request& req) {
  std::string ns(req.param("ns")), model(req.param("model"));
  if (!store::is_valid_name_part(store::NamePart::kNamespace, ns) ||
      !store::is_valid_name_part(store::NamePart::kModel, model)) {
    return std::nullopt;
  }
  return ns + "/" + model;
}

// Checks shared by every write: the client may push, and the repository name is valid.
std::optional<std::string> admit(const Service& svc, const http::Request& req, const Writer& w) {
  if (!svc->may_push(req.remote_addr)) {
    respond_registry_error(w, 403, "DENIED",
                           "this server does not accept pushes from your address (CORRAL_REGISTRY_PUSH)");
    return std::nullopt;
  }
  auto repo = repository_of(req);
  if (!repo) respond_registry_error(w, 400, "NAME_INVALID", "invalid repository name");
  return repo;
}

std::string upload_url(const std::string& repo, const std::string& id) {
  return "/v2/" + repo + "/blobs/uploads/" + id;
}

void respond_upload_failure(const Writer& w, const UploadResult& r) {
  switch (r.error) {
    case UploadError::kUnknown: return respond_registry_error(w, 404, "BLOB_UPLOAD_UNKNOWN", r.message);
    case UploadError::kBadRange: return respond_registry_error(w, 416, "BLOB_UPLOAD_INVALID", r.message);
    case UploadError::kDigestInvalid: return respond_registry_error(w, 400, "DIGEST_INVALID", r.message);
    case UploadError::kBusy: return respond_registry_error(w, 429, "TOOMANYREQUESTS", r.message);
    case UploadError::kIo:
    case UploadError::kNone: return respond_registry_error(w, 500, "UNKNOWN", r.message);
  }
}

// 202 with where the upload goes on and how far it got.
void respond_upload_state(const Writer& w, int status, const std::string& repo, const std::string& id, int64_t size) {
  w->respond(status, "", "",
             {{"Location", upload_url(repo, id)},
              {"Docker-Upload-UUID", id},
              {"Range", fmt::format("0-{}", size > 0 ? size - 1 : 0)}});
}

void respond_blob_created(const Writer& w, const std::string& repo, const store::Digest& d) {
  w->respond(201, "", "", {{"Location", "/v2/" + repo + "/blobs/" + d.str()}, {"Docker-Content-Digest", d.str()}});
}

std::optional<store::Digest> digest_param(const http::Request& req, std::string_view key) {
  auto v = req.query_value(key);
  if (!v || v->substr(0, 7) != "sha256:") return std::nullopt;
  auto d = store::Digest::parse(*v);
  return d ? std::optional<store::Digest>(*d) : std::nullopt;
}

// An upload id as UploadSessions makes them: hex, so it is safe to echo into a Location.
bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Content-Range of a PATCH: Docker's "<first>-<last>" (also accepted: "bytes <first>-<last>[/n]").
// Returns false when malformed or not matching the body's size.
bool patch_offset(const http::Request& req, std::optional<int64_t>* offset) {
  auto h = req.headers.get("Content-Range");
  if (!h) return true;
  std::string_view v = *h;
  if (v.substr(0, 6) == "bytes ") v.remove_prefix(6);
  v = v.substr(0, v.find('/'));
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return false;
  int64_t first = 0, last = 0;
  auto num = [](std::string_view s, int64_t* out) {
    if (s.empty() || s.size() > 18) return false;
    *out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      *out = *out * 10 + (c - '0');
    }
    return true;
  };
  if (!num(v.substr(0, dash), &first) || !num(v.substr(dash + 1), &last) || last < first) return false;
  if (last - first + 1 != static_cast<int64_t>(req.body.size())) return false;
  *offset = first;
  return true;
}

void spawn_or_busy(const Service& svc, const Writer& w, std::function<void()> job) {
  if (!svc->spawn(std::move(job))) respond_registry_error(w, 503, "TOOMANYREQUESTS", "too many transfers in progress");
}

}  // namespace

void handle_upload_start(const Service& svc, http::Request&& req, Writer w) {
  auto repo = admit(svc, req, w);
  if (!repo) return;
  auto mount = digest_param(req, "mount");
  auto digest = digest_param(req, "digest");
  if (req.query_value("digest") && !digest) return respond_registry_error(w, 400, "DIGEST_INVALID", "invalid digest");
  spawn_or_busy(svc, w, [svc, w, repo = *repo, mount, digest, body = std::move(req.body)] {
    // A blob the store already has is "mounted": nothing needs to be sent.
    if (mount && svc->store().has_blob(*mount)) return respond_blob_created(w, repo, *mount);
    std::string id;
    UploadResult r = svc->uploads().begin(repo, &id);
    if (!r.ok()) return respond_upload_failure(w, r);
    if (digest) {  // a monolithic upload: the whole blob in this one request
      r = svc->uploads().finish(id, repo, *digest, body);
      return r.ok() ? respond_blob_created(w, repo, *digest) : respond_upload_failure(w, r);
    }
    respond_upload_state(w, 202, repo, id, 0);
  });
}

void handle_upload_patch(const Service& svc, http::Request&& req, Writer w) {
  auto repo = admit(svc, req, w);
  if (!repo) return;
  std::string id(req.param("id"));
  if (!valid_id(id)) return respond_registry_error(w, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
  std::optional<int64_t> offset;
  if (!patch_offset(req, &offset)) {
    return respond_registry_error(w, 416, "BLOB_UPLOAD_INVALID", "Content-Range does not match the body");
  }
  spawn_or_busy(svc, w, [svc, w, repo = *repo, id, offset, body = std::move(req.body)] {
    UploadResult r = svc->uploads().append(id, repo, offset, body);
    if (!r.ok()) return respond_upload_failure(w, r);
    respond_upload_state(w, 202, repo, id, r.size);
  });
}

void handle_upload_finish(const Service& svc, http::Request&& req, Writer w) {
  auto repo = admit(svc, req, w);
  if (!repo) return;
  std::string id(req.param("id"));
  if (!valid_id(id)) return respond_registry_error(w, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
  auto digest = digest_param(req, "digest");
  if (!digest) return respond_registry_error(w, 400, "DIGEST_INVALID", "a digest=sha256:<hex> parameter is required");
  spawn_or_busy(svc, w, [svc, w, repo = *repo, id, d = *digest, body = std::move(req.body)] {
    UploadResult r = svc->uploads().finish(id, repo, d, body);
    if (!r.ok()) return respond_upload_failure(w, r);
    respond_blob_created(w, repo, d);
  });
}

void handle_upload_status(const Service& svc, http::Request&& req, Writer w) {
  auto repo = admit(svc, req, w);
  if (!repo) return;
  std::string id(req.param("id"));
  auto size = valid_id(id) ? svc->uploads().size(id, *repo) : std::nullopt;
  if (!size) return respond_registry_error(w, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
  respond_upload_state(w, 204, *repo, id, *size);
}

void handle_upload_cancel(const Service& svc, http::Request&& req, Writer w) {
  auto repo = admit(svc, req, w);
  if (!repo) return;
  std::string id(req.param("id"));
  spawn_or_busy(svc, w, [svc, w, repo = *repo, id] {
    svc->uploads().cancel(id, repo);  // deletes the temp file
    w->respond(204, "", "");
  });
}

void handle_put_manifest(const Service& svc, http::Request&& req, Writer w) {
  auto repo = admit(svc, req, w);
  if (!repo) return;
  std::string tag(req.param("tag"));
  if (!store::is_valid_name_part(store::NamePart::kTag, tag)) {
    return respond_registry_error(w, 400, "NAME_INVALID", "invalid tag");
  }
  if (json_nests_deeper_than(req.body, kMaxRequestJsonDepth))
    return respond_registry_error(w, 400, "MANIFEST_INVALID", "manifest nests too deeply");
  auto manifest = store::Manifest::parse(req.body);
  Status valid = manifest ? registry::check_remote_manifest(*manifest) : manifest.status();
  if (!valid) return respond_registry_error(w, 400, "MANIFEST_INVALID", valid.message());
  store::ModelName name{std::string(store::kDefaultHost), std::string(req.param("ns")), std::string(req.param("model")),
                        tag};
  spawn_or_busy(svc, w, [svc, w, repo = *repo, name, m = std::move(*manifest)] {
    // Sizes as well as presence: `list` and `show` report the manifest's sizes.
    for (const store::Digest& d : m.digests()) {
      struct stat st;
      if (::stat(svc->store().blob_path(d).c_str(), &st) != 0) {
        return respond_registry_error(w, 400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: " + d.str());
      }
      const int64_t declared = d == m.config.digest ? m.config.size : [&] {
        for (const store::Layer& l : m.layers)
          if (l.digest == d) return l.size;
        return int64_t{-1};
      }();
      if (declared != st.st_size) {
        return respond_registry_error(
            w, 400, "SIZE_INVALID",
            fmt::format("{} has {} bytes, the manifest says {}", d.str(), static_cast<int64_t>(st.st_size), declared));
      }
    }
    if (Status st = svc->store().write_manifest(name, m); !st) {
      return respond_registry_error(w, 400, "MANIFEST_BLOB_UNKNOWN", st.message());
    }
    w->respond(201, "", "",
               {{"Location", "/v2/" + repo + "/manifests/" + name.tag},
                {"Docker-Content-Digest", store::Sha256::of(m.to_json()).str()}});
  });
}

}  // namespace corral::server
