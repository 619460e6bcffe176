#include "registry/fake_registry.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "registry/byte_range.h"

namespace corral::testing {

FakeRegistry::FakeRegistry() : server_(http::ServerOptions{.host = "127.0.0.1", .port = 0, .io_threads = 2}) {
  server_.route("GET", "/v2/*rest",
                [this](http::Request&& req, std::shared_ptr<http::ResponseWriter> w) { serve(req, w); });
  EXPECT_TRUE(server_.listen().is_ok());
  runner_ = std::thread([this] { server_.run(); });
}

FakeRegistry::~FakeRegistry() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(workers_mu_);
    stopping_ = true;
    workers.swap(workers_);
  }
  stop_cv_.notify_all();
  for (auto& t : workers) t.join();
  server_.stop(std::chrono::milliseconds(0));
  runner_.join();
}

void FakeRegistry::spawn(std::function<void()> f) {
  std::lock_guard lock(workers_mu_);
  if (!stopping_) workers_.emplace_back(std::move(f));
}

bool FakeRegistry::sleep_unless_stopping(std::chrono::milliseconds d) {
  std::unique_lock lock(workers_mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

void FakeRegistry::stall_manifest(const std::string& model) {
  std::lock_guard lock(mu_);
  stalled_manifests_.insert("library/" + model + "/manifests/latest");
}

void FakeRegistry::set_manifest(const std::string& model, std::string body, int status) {
  std::lock_guard lock(mu_);
  manifests_["library/" + model + "/manifests/latest"] = {status, std::move(body)};
}

void FakeRegistry::set_blob(const std::string& digest, std::string bytes, BlobFault fault) {
  std::lock_guard lock(mu_);
  blobs_[digest] = {std::move(bytes), fault};
}

void FakeRegistry::serve(const http::Request& req, const std::shared_ptr<http::ResponseWriter>& w) {
  const std::string rest(req.param("rest"));
  if (rest.find("/blobs/") != std::string::npos && delay_ms_.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));  // an io thread: tests only
  }
  std::lock_guard lock(mu_);
  if (stalled_manifests_.count(rest)) {
    // Hold the request open, unanswered, until the client gives up or the test ends.
    return spawn([this, w] {
      while (!w->client_gone() && sleep_unless_stopping(std::chrono::milliseconds(20))) {}
      w->finish();
    });
  }
  if (auto it = manifests_.find(rest); it != manifests_.end()) {
    return w->respond(it->second.first, std::string(store::media_type::kManifest), it->second.second);
  }
  const size_t at = rest.find("/blobs/");
  auto it = at == std::string::npos ? blobs_.end() : blobs_.find(rest.substr(at + 7));
  if (it == blobs_.end()) return w->respond_error(404, "not found");
  ++blob_requests_;
  const std::string& b = it->second.bytes;
  const int64_t size = static_cast<int64_t>(b.size());
  registry::ByteRange r{0, size - 1};
  bool ranged = false;
  if (auto h = req.headers.get("Range"); h && it->second.fault != BlobFault::kIgnoreRange) {
    ranged = registry::parse_range_header(*h, size, &r) == registry::RangeRequest::kRange;
  }
  std::string body = b.substr(static_cast<size_t>(r.first), static_cast<size_t>(r.length()));
  http::HeaderList headers;
  if (ranged) {
    registry::ByteRange shown = r;
    if (it->second.fault == BlobFault::kWrongRange) shown = {r.first + 1, r.last};
    headers.push_back({"Content-Range", registry::content_range(shown, size)});
  }
  switch (it->second.fault) {
    case BlobFault::kStatus500: return w->respond_error(500, "internal error");
    case BlobFault::kTruncate: {
      // Everything up to the middle of the blob exists; the connection breaks there.
      const int64_t have = std::clamp<int64_t>(size / 2 - r.first, 0, r.length());
      w->start_sized(ranged ? 206 : 200, "application/octet-stream", body.size(), headers);
      bytes_served_ += have;
      w->write(body.substr(0, static_cast<size_t>(have)));
      return w->finish();  // short of the declared length: the connection closes
    }
    case BlobFault::kStall: {
      const int64_t have = std::clamp<int64_t>(size / 2 - r.first, 0, r.length());
      w->start_sized(ranged ? 206 : 200, "application/octet-stream", body.size(), headers);
      bytes_served_ += have;
      w->write(body.substr(0, static_cast<size_t>(have)));
      return spawn([this, w] {
        while (!w->client_gone() && sleep_unless_stopping(std::chrono::milliseconds(20))) {}
        w->finish();  // short of the declared length: the connection closes
      });
    }
    case BlobFault::kTrickle: {
      w->start_sized(ranged ? 206 : 200, "application/octet-stream", body.size(), headers);
      return spawn([this, w, body = std::move(body)] {
        const auto step = static_cast<size_t>(trickle_bytes_.load());
        const std::chrono::milliseconds every(trickle_ms_.load());
        for (size_t at = 0; at < body.size() && !w->client_gone(); at += step) {
          if (at > 0 && !sleep_unless_stopping(every)) break;
          const std::string piece = body.substr(at, step);
          bytes_served_ += static_cast<int64_t>(piece.size());
          w->write(piece);
        }
        w->finish();
      });
    }
    case BlobFault::kGarbageTail: body += std::string(1 << 20, 'x'); break;
    default: break;
  }
  bytes_served_ += static_cast<int64_t>(body.size());
  w->respond(ranged ? 206 : 200, "application/octet-stream", std::move(body), headers);
}

std::string manifest_json(const std::vector<std::pair<std::string, int64_t>>& layers, const std::string& config_digest,
                          int64_t config_size, const std::string& media_type) {
  nlohmann::ordered_json j{{"schemaVersion", 2}, {"mediaType", store::media_type::kManifest}};
  if (!config_digest.empty()) {
    j["config"] = {{"mediaType", store::media_type::kConfig}, {"digest", config_digest}, {"size", config_size}};
  }
  j["layers"] = nlohmann::ordered_json::array();
  for (const auto& [d, size] : layers)
    j["layers"].push_back({{"mediaType", media_type}, {"digest", d}, {"size", size}});
  return j.dump();
}

}  // namespace corral::testing
