#include "registry/pull.h"
#include "base/quote.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "registry/http_client.h"
#include "registry/manifest_check.h"
#include "registry/reference.h"

namespace corral::registry {

namespace {

// Ollama's envconfig.Bool: unset or empty is false; an unparsable non-empty value is true.
bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return false;
  std::string s(v);
  return !(s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False");
}

std::optional<int64_t> env_count(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  int64_t n = 0;
  std::string_view s(v);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || n <= 0) {
    spdlog::warn("{}={} is not a positive integer; ignored", name, quote_text(s));
    return std::nullopt;
  }
  return n;
}

Result<store::Manifest> fetch_manifest(const Reference& ref, const DownloadOptions& options, const CancelFlag& cancel) {
  HttpRequest req;
  req.url = ref.manifest_url();
  req.headers = {{"Accept", std::string(store::media_type::kManifest)}};
  req.max_response_bytes = store::kMaxManifestBytes;
  req.cancel = &cancel;
  req.stall_timeout = options.stall_timeout;
  bool stalled = false;
  req.stalled = &stalled;
  auto resp = http_perform(req);
  if (stalled) {
    return Status::errorf("the registry sent nothing for {:.3g} s (CORRAL_PULL_STALL_TIMEOUT)",
                          std::chrono::duration<double>(options.stall_timeout).count());
  }
  if (!resp) return resp.status();
  if (resp->status == 404) return Status::error("file does not exist");  // Ollama's os.ErrNotExist text
  if (resp->status == 401) {
    return Status::errorf("401: {} (the registry {} wants a login, which corral does not implement)",
                          body_excerpt(resp->body), ref.name.host);
  }
  if (resp->status < 200 || resp->status >= 300) {
    return Status::errorf("{}: {}", resp->status, body_excerpt(resp->body));
  }
  auto m = store::Manifest::parse(resp->body);
  if (!m) return m.status().with_context(fmt::format("invalid manifest from {}", ref.name.host));
  Status ok = check_remote_manifest(*m);
  if (!ok) return ok.with_context(fmt::format("invalid manifest from {}", ref.name.host));
  return m;
}

// The blobs of a manifest in Ollama's pull order (layers, then the config), each once.
std::vector<store::Layer> blobs_of(const store::Manifest& m) {
  std::vector<store::Layer> out;
  std::set<store::Digest> seen;
  for (const store::Layer& l : m.layers)
    if (seen.insert(l.digest).second) out.push_back(l);
  if (!m.config.digest.empty() && seen.insert(m.config.digest).second) out.push_back(m.config);
  return out;
}

// Refuses a pull that cannot fit, before a byte is written. Partial files already count.
Status check_disk_space(const store::Store& store, const std::vector<store::Layer>& blobs) {
  int64_t need = 0;
  for (const store::Layer& l : blobs) {
    if (store.has_blob(l.digest)) continue;
    int64_t have = 0;
    struct stat st;
    if (::stat((store.blob_path(l.digest) + "-partial").c_str(), &st) == 0) have = int64_t{st.st_blocks} * 512;
    need += std::max<int64_t>(0, l.size - have);
  }
  // The store may not exist yet: ask the nearest existing directory.
  std::string dir = store.blobs_dir();
  struct statvfs vfs;
  while (::statvfs(dir.c_str(), &vfs) != 0) {
    size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash == 0) return Status::ok();  // cannot tell: let writes fail
    dir.resize(slash);
  }
  const int64_t avail = static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
  if (need > avail) {
    return Status::errorf("not enough disk space: the model needs {} more bytes, {} are free", need, avail);
  }
  return Status::ok();
}

}  // namespace

PullOptions pull_options_from_env() {
  PullOptions o;
  if (auto v = env_count("CORRAL_PULL_PART_SIZE")) {
    o.download.plan.min_part_size = *v;
    o.download.plan.max_part_size = std::max(o.download.plan.max_part_size, *v);
  }
  if (auto v = env_count("CORRAL_PULL_CONNECTIONS"))
    o.download.max_connections = static_cast<int>(std::min<int64_t>(*v, 64));
  // Whole seconds, at most a day (a longer wait is no timeout at all).
  if (auto v = env_count("CORRAL_PULL_STALL_TIMEOUT"))
    o.download.stall_timeout = std::chrono::seconds(std::min<int64_t>(*v, 86400));
  o.prune = !env_flag("OLLAMA_NOPRUNE");
  return o;
}

Status pull_model(const store::Store& store, std::string_view name, const PullOptions& options,
                  const ProgressFn& progress, const CancelFlag& cancel) {
  auto report = [&](const Progress& p) {
    if (progress) progress(p);
  };
  CORRAL_ASSIGN_OR_RETURN(Reference ref, Reference::parse(name, options.insecure));

  // Blobs that only the manifest being replaced uses are pruned at the end (Ollama's deleteMap).
  std::vector<store::Digest> old_digests;
  if (auto found = store.find(ref.name)) {
    if (auto m = store.read_manifest(*found)) old_digests = m->digests();
  }

  report(status_only("pulling manifest"));
  auto manifest = fetch_manifest(ref, options.download, cancel);
  if (!manifest) return manifest.status().with_context("pull model manifest");
  const std::vector<store::Layer> blobs = blobs_of(*manifest);
  CORRAL_RETURN_IF_ERROR(check_disk_space(store, blobs));

  // Every missing blob is locked before any is downloaded, in digest order, so two pulls that
  // share blobs never wait on each other in a cycle (one holding A and waiting for B, the
  // other holding B and waiting for A), whatever order their manifests list the blobs in.
  struct Locked {
    int64_t size = 0;
    std::unique_ptr<PartialBlob> blob;  // null: already in the store
  };
  std::map<store::Digest, Locked> partials;
  for (const store::Layer& l : blobs) partials[l.digest].size = l.size;
  for (auto& [digest, locked] : partials) {
    auto acquired = PartialBlob::acquire(store, digest, locked.size, options.download.plan, cancel);
    if (!acquired) return acquired.status();
    if (*acquired) locked.blob = std::move(**acquired);
  }

  // Then the downloads, in Ollama's order, each reported as "pulling <12 hex>".
  std::vector<PartialBlob*> fetched;
  for (const store::Layer& l : blobs) {
    if (cancel.load()) return Status::error("cancelled");
    Progress p{fmt::format("pulling {}", short_hex(l.digest.hex())), l.digest.str(), l.size, 0};
    PartialBlob* blob = partials[l.digest].blob.get();
    if (!blob) {  // already in the store (Ollama's cache hit: reported complete, not verified)
      p.completed = l.size;
      report(p);
      continue;
    }
    p.completed = blob->completed();
    report(p);
    Status st = download_blob(
        *blob, ref.blob_url(l.digest), options.download,
        [&](int64_t done) {
          p.completed = done;
          report(p);
        },
        cancel);
    if (!st) return st.with_context(p.status);
    fetched.push_back(blob);
  }

  report(status_only("verifying sha256 digest"));
  for (PartialBlob* blob : fetched) {
    if (cancel.load()) return Status::error("cancelled");
    CORRAL_RETURN_IF_ERROR(blob->verify());
  }

  {
    // Under the shared lock, a removal cannot collect what we commit (or found already stored)
    // before the manifest references it. The download itself ran without the lock so that a
    // long pull never holds up `corral rm`; a stored blob that vanished meanwhile fails here.
    CORRAL_ASSIGN_OR_RETURN(store::DirLock lock, store.lock_shared());
    for (PartialBlob* blob : fetched) CORRAL_RETURN_IF_ERROR(blob->commit());
    for (const store::Layer& l : blobs) {
      if (!store.has_blob(l.digest)) {
        return Status::errorf("blob {} was removed while the pull ran; pull again", l.digest.str());
      }
    }
    report(status_only("writing manifest"));
    CORRAL_RETURN_IF_ERROR(store.write_manifest(ref.name, *manifest, store::Store::Locking::kAlreadyLocked));
  }

  std::vector<store::Digest> unused;
  const std::vector<store::Digest> now = manifest->digests();
  for (const store::Digest& d : old_digests)
    if (std::find(now.begin(), now.end(), d) == now.end()) unused.push_back(d);
  if (options.prune && !unused.empty()) {
    report(status_only("removing unused layers"));
    if (auto removed = store.collect_garbage(unused); !removed) {
      report(status_only(fmt::format("couldn't remove unused layers: {}", removed.error())));
    }
  }
  report(status_only("success"));
  return Status::ok();
}

}  // namespace corral::registry
