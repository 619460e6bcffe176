#include "server/registry/service.h"
#include "base/quote.h"

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "server/api_common.h"
#include "server/http/response_writer.h"

namespace corral::server {

namespace {

constexpr int kMaxWorkers = 64;  // concurrent transfers; more get 503 instead of more threads

// Workers are detached (a handler cannot wait for them), so this counts them and, when the
// process exits, gives the ones still running - already cancelled by the server's shutdown,
// which drops every connection - a moment to finish writing their files.
class WorkerCount {
 public:
  ~WorkerCount() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return n_ == 0; });
  }
  bool enter() {
    std::lock_guard lock(mu_);
    if (n_ >= kMaxWorkers) return false;
    ++n_;
    return true;
  }
  void leave() {
    std::lock_guard lock(mu_);
    --n_;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

WorkerCount& workers() {
  static WorkerCount w;
  return w;
}

// "127.0.0.1:5000", "[::1]:5000", "[::ffff:127.0.0.1]:5000" -> whether the address is loopback.
bool is_loopback(std::string_view remote) {
  std::string_view host = remote;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host == "::1" || host.substr(0, 4) == "127." || host.substr(0, 11) == "::ffff:127.";
}

}  // namespace

RegistryService::RegistryService(store::Store store) : store_(store), uploads_(std::move(store)) {
  if (const char* v = std::getenv("CORRAL_REGISTRY_SERVE_BPS"); v && *v) {
    std::string_view s(v);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && p == s.data() + s.size() && n >= 0) {
      serve_bps_ = n;
    } else {
      spdlog::warn("CORRAL_REGISTRY_SERVE_BPS={} is not a byte count; ignored", quote_text(s));
    }
  }
  if (const char* v = std::getenv("CORRAL_REGISTRY_PUSH"); v && *v) {
    std::string_view s(v);
    if (s == "any") push_policy_ = PushPolicy::kAny;
    else if (s == "none") push_policy_ = PushPolicy::kNone;
    else if (s != "loopback")
      spdlog::warn("CORRAL_REGISTRY_PUSH={} is not loopback, any or none; using loopback", quote_text(s));
  }
}

bool RegistryService::spawn(std::function<void()> job) {
  if (!workers().enter()) return false;
  std::thread([job = std::move(job)] {
    try {
      job();
    } catch (const std::exception& e) { spdlog::error("registry: worker failed: {}", e.what()); }
    workers().leave();
  }).detach();
  return true;
}

bool RegistryService::may_push(std::string_view remote_addr) const {
  switch (push_policy_) {
    case PushPolicy::kAny: return true;
    case PushPolicy::kNone: return false;
    case PushPolicy::kLoopback: return is_loopback(remote_addr);
  }
  return false;
}

void respond_registry_error(const Writer& w, int status, std::string_view code, std::string_view message) {
  respond_json(w, status,
               ordered_json{{"errors", ordered_json::array({ordered_json{{"code", std::string(code)},
                                                                         {"message", std::string(message)}}})}});
}

}  // namespace corral::server
