#include "registry/push.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "registry/http_client.h"
#include "registry/reference.h"
#include "store/file_io.h"

namespace corral::registry {

namespace {

bool is_2xx(long s) { return s >= 200 && s < 300; }

Status http_error(const HttpRequest& req, const HttpResponse& resp) {
  return Status::errorf("{} {}: {} {}", req.method, req.url, resp.status, body_excerpt(resp.body));
}

// The upload URL a registry answered with (Ollama reads Docker-Upload-Location first).
std::string upload_location(const Reference& ref, const HttpResponse& resp) {
  std::string loc = resp.header("docker-upload-location");
  if (loc.empty()) loc = resp.header("location");
  return loc.empty() ? std::string() : resolve_location(ref.base_url(), loc);
}

class BlobUpload {
 public:
  BlobUpload(const store::Store& store, const Reference& ref, const store::Layer& layer, const PushOptions& opt,
             const ProgressFn& progress, const CancelFlag& cancel)
      : store_(store), ref_(ref), layer_(layer), opt_(opt), progress_(progress), cancel_(cancel) {
    p_ = {fmt::format("pushing {}", short_hex(layer.digest.hex())), layer.digest.str(), layer.size, 0};
  }
  ~BlobUpload() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status run() {
    HttpRequest head = request("HEAD", ref_.blob_url(layer_.digest));
    CORRAL_ASSIGN_OR_RETURN(HttpResponse exists, http_perform(head));
    if (is_2xx(exists.status)) return done();  // the registry has it already
    if (exists.status != 404) return http_error(head, exists);

    const std::string path = store_.blob_path(layer_.digest);
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Status::errorf("cannot open {}: {}", path, std::strerror(errno));
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::errorf("cannot stat {}: {}", path, std::strerror(errno));
    if (st.st_size != layer_.size) {
      return Status::errorf("blob {} has {} bytes but the manifest says {}", layer_.digest.str(),
                            static_cast<int64_t>(st.st_size), layer_.size);
    }
    report();

    HttpRequest start = request("POST", ref_.uploads_url());
    CORRAL_ASSIGN_OR_RETURN(HttpResponse started, http_perform(start));
    if (started.status == 201) return done();  // mounted from another repository
    if (!is_2xx(started.status)) return http_error(start, started);
    std::string location = upload_location(ref_, started);
    if (location.empty()) return Status::errorf("POST {}: no upload Location in the answer", start.url);

    for (int64_t offset = 0; offset < layer_.size;) {
      const int64_t n = std::min(opt_.chunk_bytes, layer_.size - offset);
      HttpRequest patch = request("PATCH", location);
      patch.headers.push_back({"Content-Type", "application/octet-stream"});
      patch.headers.push_back({"Content-Range", fmt::format("{}-{}", offset, offset + n - 1)});
      patch.upload_fd = fd_;
      patch.upload_offset = offset;
      patch.upload_size = n;
      CORRAL_ASSIGN_OR_RETURN(HttpResponse r, http_perform(patch));
      if (!is_2xx(r.status)) return http_error(patch, r);
      if (std::string next = upload_location(ref_, r); !next.empty()) location = next;
      offset += n;
      p_.completed = offset;
      report();
    }

    const std::string digest_q = "digest=" + layer_.digest.str().replace(6, 1, "%3A");
    HttpRequest put = request("PUT", location + (location.find('?') == std::string::npos ? "?" : "&") + digest_q);
    put.headers.push_back({"Content-Type", "application/octet-stream"});
    CORRAL_ASSIGN_OR_RETURN(HttpResponse fin, http_perform(put));
    if (!is_2xx(fin.status)) return http_error(put, fin);
    return done();
  }

 private:
  HttpRequest request(std::string method, std::string url) const {
    HttpRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.cancel = &cancel_;
    return r;
  }
  void report() {
    if (progress_) progress_(p_);
  }
  Status done() {
    p_.completed = layer_.size;
    report();
    return Status::ok();
  }

  const store::Store& store_;
  const Reference& ref_;
  const store::Layer& layer_;
  const PushOptions& opt_;
  const ProgressFn& progress_;
  const CancelFlag& cancel_;
  Progress p_;
  int fd_ = -1;
};

}  // namespace

Status push_model(const store::Store& store, std::string_view name, const PushOptions& options,
                  const ProgressFn& progress, const CancelFlag& cancel) {
  auto report = [&](const Progress& p) {
    if (progress) progress(p);
  };
  report(status_only("retrieving manifest"));
  CORRAL_ASSIGN_OR_RETURN(Reference ref, Reference::parse(name, options.insecure));
  auto found = store.find(ref.name);
  if (!found) {
    report(status_only("couldn't retrieve manifest"));
    return found.status();
  }
  // The stored bytes go out unchanged, so the registry's manifest has the same digest.
  CORRAL_ASSIGN_OR_RETURN(std::string bytes,
                          store::read_file_bounded(store.manifest_path(*found), store::kMaxManifestBytes));
  auto manifest = store::Manifest::parse(bytes);
  if (!manifest) return manifest.status().with_context(found->display());

  std::vector<store::Layer> blobs = manifest->layers;
  if (!manifest->config.digest.empty()) blobs.push_back(manifest->config);
  std::set<store::Digest> seen;
  for (const store::Layer& l : blobs) {
    if (!seen.insert(l.digest).second) continue;
    if (cancel.load()) return Status::error("cancelled");
    CORRAL_RETURN_IF_ERROR(BlobUpload(store, ref, l, options, progress, cancel).run());
  }

  report(status_only("pushing manifest"));
  HttpRequest put;
  put.method = "PUT";
  put.url = ref.manifest_url();
  put.headers = {{"Content-Type", std::string(store::media_type::kManifest)}};
  put.body = std::move(bytes);
  put.cancel = &cancel;
  CORRAL_ASSIGN_OR_RETURN(HttpResponse resp, http_perform(put));
  if (!is_2xx(resp.status)) return http_error(put, resp);
  report(status_only("success"));
  return Status::ok();
}

}  // namespace corral::registry
