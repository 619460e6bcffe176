// A registry that misbehaves on purpose, in the test process: an http::Server on a loopback
// port serving whatever manifest and blob bytes a test sets, with faults per blob. For the
// client's side of the protocol, including every way a hostile registry can answer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/http/server.h"
#include "store/manifest.h"

namespace corral::testing {

enum class BlobFault {
  kNone,         // honours Range with 206
  kIgnoreRange,  // always 200 with the whole body
  kTruncate,     // declares the full length, sends half, closes
  kWrongRange,   // 206 with a Content-Range that starts elsewhere
  kGarbageTail,  // the body, then a megabyte more
  kStatus500,    // 500 every time
  kStall,        // declares the full length, sends half, then nothing while the client waits
  kTrickle,      // the body a few bytes at a time (set_trickle), slowly but steadily
};

class FakeRegistry {
 public:
  FakeRegistry();
  ~FakeRegistry();

  int port() const { return server_.port(); }
  std::string host() const { return "127.0.0.1:" + std::to_string(port()); }
  // "127.0.0.1:<port>/library/<model>:latest"
  std::string name(const std::string& model) const { return host() + "/library/" + model + ":latest"; }

  // GET /v2/library/<model>/manifests/latest answers `status` with `body`.
  void set_manifest(const std::string& model, std::string body, int status = 200);
  // GET /v2/library/<any>/blobs/<digest> serves `bytes` with `fault`.
  void set_blob(const std::string& digest, std::string bytes, BlobFault fault = BlobFault::kNone);

  // Every blob response waits this long first (to make transfers overlap).
  void set_blob_delay(std::chrono::milliseconds d) { delay_ms_.store(d.count()); }
  // kTrickle sends `bytes` every `every`.
  void set_trickle(int64_t bytes, std::chrono::milliseconds every) {
    trickle_bytes_.store(bytes);
    trickle_ms_.store(every.count());
  }
  // The manifest request of `model` gets no answer at all (the connection stays open).
  void stall_manifest(const std::string& model);

  int64_t bytes_served() const { return bytes_served_.load(); }
  int blob_requests() const { return blob_requests_.load(); }

 private:
  struct Blob {
    std::string bytes;
    BlobFault fault;
  };
  void serve(const http::Request& req, const std::shared_ptr<http::ResponseWriter>& w);
  // Runs `f` on a thread of its own (slow answers must not hold an io thread), joined at the end.
  void spawn(std::function<void()> f);
  // Sleeps up to `d`; false once the registry is shutting down.
  bool sleep_unless_stopping(std::chrono::milliseconds d);

  http::Server server_;
  std::thread runner_;
  std::mutex mu_;
  std::map<std::string, std::pair<int, std::string>> manifests_;
  std::map<std::string, Blob> blobs_;
  std::atomic<int64_t> bytes_served_{0};
  std::atomic<int> blob_requests_{0};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<int64_t> trickle_bytes_{16};
  std::atomic<int64_t> trickle_ms_{100};
  std::set<std::string> stalled_manifests_;
  std::mutex workers_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by workers_mu_
  std::vector<std::thread> workers_;
};

// A manifest JSON with one model layer per (digest, size) and an optional config.
std::string manifest_json(const std::vector<std::pair<std::string, int64_t>>& layers,
                          const std::string& config_digest = "", int64_t config_size = 0,
                          const std::string& media_type = "application/vnd.ollama.image.model");

}  // namespace corral::testing
