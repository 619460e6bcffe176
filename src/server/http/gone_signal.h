// A one-shot "the client went away" flag with callbacks, shared by a connection (which sets it)
// and the response writer (which reports it). Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

namespace corral::http {

class GoneSignal {
 public:
  bool is_set() const { return set_.load(std::memory_order_acquire); }
  // The first call runs the subscribed callbacks on this thread (outside the lock, so a
  // callback may use the writer); later calls do nothing.
  void set();
  // Runs `cb` on set(), or right now on this thread if already set.
  void subscribe(std::function<void()> cb);

 private:
  std::mutex mu_;
  std::atomic<bool> set_{false};
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace corral::http
