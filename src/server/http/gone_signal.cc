#include "server/http/gone_signal.h"

#include <exception>

#include <spdlog/spdlog.h>

namespace corral::http {

namespace {
// Callbacks come from handler code; one that throws must not take an io thread down.
void run_guarded(const std::function<void()>& cb) {
  try {
    cb();
  } catch (const std::exception& e) {
    spdlog::error("http: on_client_gone callback threw: {}", e.what());
  } catch (...) { spdlog::error("http: on_client_gone callback threw a non-exception"); }
}
}  // namespace

void GoneSignal::set() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    if (set_.load(std::memory_order_relaxed)) return;
    set_.store(true, std::memory_order_release);
    callbacks.swap(callbacks_);
  }
  for (const auto& cb : callbacks) run_guarded(cb);
}

void GoneSignal::subscribe(std::function<void()> cb) {
  if (!cb) return;
  {
    std::lock_guard lock(mu_);
    if (!set_.load(std::memory_order_relaxed)) {
      callbacks_.push_back(std::move(cb));
      return;
    }
  }
  run_guarded(cb);
}

}  // namespace corral::http
