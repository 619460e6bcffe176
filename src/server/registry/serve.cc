// The read side of the registry protocol over the server's store:
//   GET/HEAD /v2/                                   200 {} (the API version check)
//   GET/HEAD /v2/<ns>/<model>/manifests/<tag>       the stored manifest's exact bytes
//   GET/HEAD /v2/<ns>/<model>/blobs/<digest>        the blob, with single-range Range support
// Names and digests are validated (400) before a path is built from them; blobs are streamed
// from the file in chunks, paced by how fast the client takes them, never read whole.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "registry/byte_range.h"
#include "registry/progress.h"
#include "server/registry/service.h"
#include "store/file_io.h"

namespace corral::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunk = 256 << 10;
// Stop reading the file while this much waits for the socket: a slow client then costs this
// much memory, not the blob's size.
constexpr size_t kMaxQueued = 4 << 20;

// The store name that /v2/<ns>/<model>/...:<tag> refers to; nullopt when a part is invalid.
std::optional<store::ModelName> name_of(const http::Request& req, std::string_view tag) {
  store::ModelName n{std::string(store::kDefaultHost), std::string(req.param("ns")), std::string(req.param("model")),
                     std::string(tag)};
  if (!store::is_valid_name_part(store::NamePart::kNamespace, n.ns) ||
      !store::is_valid_name_part(store::NamePart::kModel, n.model) ||
      !store::is_valid_name_part(store::NamePart::kTag, n.tag)) {
    return std::nullopt;
  }
  return n;
}

struct BlobFile {
  int fd = -1;
  ~BlobFile() {
    if (fd >= 0) ::close(fd);
  }
};

// Streams [range] of the open blob to `w`, pacing on the client and the optional rate cap.
// Returns the bytes handed to the writer.
int64_t stream_range(int fd, const registry::ByteRange& range, const Writer& w, int64_t bps) {
  std::string buf;
  const auto t0 = Clock::now();
  int64_t sent = 0;
  while (sent < range.length() && !w->client_gone()) {
    while (w->queued_bytes() > kMaxQueued && !w->client_gone())
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (bps > 0) {
      const auto due = t0 + std::chrono::microseconds(sent * 1'000'000 / bps);
      if (due > Clock::now()) std::this_thread::sleep_until(due);
    }
    const size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(kChunk), range.length() - sent));
    buf.resize(want);
    ssize_t n = ::pread(fd, buf.data(), want, range.first + sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the file shrank or failed: finishing short closes the connection
    buf.resize(static_cast<size_t>(n));
    if (!w->write(std::move(buf))) break;
    buf = std::string();
    sent += n;
  }
  return sent;
}

void serve_blob(const Service& svc, const http::Request& req, const Writer& w, const store::Digest& digest) {
  const std::string path = svc->store().blob_path(digest);
  BlobFile f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (f.fd < 0 || ::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return respond_registry_error(w, 404, "BLOB_UNKNOWN", "blob unknown to registry");
  }
  const int64_t size = st.st_size;
  http::HeaderList headers{{"Docker-Content-Digest", digest.str()}, {"Accept-Ranges", "bytes"}};
  registry::ByteRange range{0, size - 1};
  int status = 200;
  if (auto h = req.headers.get("Range")) {
    switch (registry::parse_range_header(*h, size, &range)) {
      case registry::RangeRequest::kWhole: range = {0, size - 1}; break;
      case registry::RangeRequest::kRange:
        status = 206;
        headers.push_back({"Content-Range", registry::content_range(range, size)});
        break;
      case registry::RangeRequest::kUnsatisfiable:
        w->add_header("Content-Range", fmt::format("bytes */{}", size));
        return respond_registry_error(w, 416, "BLOB_UNKNOWN", "requested range not satisfiable");
    }
  }
  w->start_sized(status, "application/octet-stream", static_cast<uint64_t>(range.length()), std::move(headers));
  if (req.method == "HEAD" || size == 0) return w->finish();
  const int64_t sent = stream_range(f.fd, range, w, svc->serve_bytes_per_second());
  w->finish();
  // One line per blob response: what a registry operator (and the resume test) wants to see.
  spdlog::info("registry: sent {} bytes {}-{} of {} ({} B{})", registry::short_hex(digest.hex()), range.first,
               range.last, size, sent, sent < range.length() ? ", client gone" : "");
}

}  // namespace

void handle_v2_root(const Service&, http::Request&&, Writer w) {
  w->respond(200, "application/json; charset=utf-8", "{}", {{"Docker-Distribution-API-Version", "registry/2.0"}});
}

void handle_get_manifest(const Service& svc, http::Request&& req, Writer w) {
  auto name = name_of(req, req.param("tag"));
  if (!name) return respond_registry_error(w, 400, "NAME_INVALID", "invalid repository name or tag");
  const bool spawned = svc->spawn([svc, w, name = *name] {
    auto found = svc->store().find(name);
    if (!found) return respond_registry_error(w, 404, "MANIFEST_UNKNOWN", "manifest unknown");
    auto bytes = store::read_file_bounded(svc->store().manifest_path(*found), store::kMaxManifestBytes);
    if (!bytes) return respond_registry_error(w, 500, "UNKNOWN", bytes.error());
    http::HeaderList headers{{"Docker-Content-Digest", store::Sha256::of(*bytes).str()}};
    // For HEAD the writer sends the length and drops the body.
    w->respond(200, std::string(store::media_type::kManifest), std::move(*bytes), std::move(headers));
  });
  if (!spawned) respond_registry_error(w, 503, "TOOMANYREQUESTS", "too many transfers in progress");
}

void handle_get_blob(const Service& svc, http::Request&& req, Writer w) {
  if (!name_of(req, store::kDefaultTag))
    return respond_registry_error(w, 400, "NAME_INVALID", "invalid repository name");
  auto digest = store::Digest::parse(req.param("digest"));
  if (!digest || req.param("digest").substr(0, 7) != "sha256:") {
    return respond_registry_error(w, 400, "DIGEST_INVALID", "invalid digest");
  }
  const bool spawned = svc->spawn([svc, w, req = std::move(req), d = *digest] { serve_blob(svc, req, w, d); });
  if (!spawned) respond_registry_error(w, 503, "TOOMANYREQUESTS", "too many transfers in progress");
}

}  // namespace corral::server
