#include "base/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

#include "base/cpu_features.h"

namespace corral {
namespace {
std::atomic<int> g_requested_threads{0};

// A decode step issues ~100 short parallel jobs per token, so workers spin briefly before
// sleeping: waking a sleeping thread costs tens of microseconds, spinning costs nothing
// while a step is running. 50 µs keeps idle CPU use negligible between steps.
constexpr auto kSpinTime = std::chrono::microseconds(50);
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(wake_mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int ith) {
  uint64_t seen = 0;
  for (;;) {
    // Spin, then sleep, until a new generation is published.
    auto until = std::chrono::steady_clock::now() + kSpinTime;
    while (generation_.load(std::memory_order_acquire) == seen) {
      if (std::chrono::steady_clock::now() > until) {
        std::unique_lock<std::mutex> lk(wake_mutex_);
        wake_cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        break;
      }
      _mm_pause();
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    (*job_)(ith, n_threads_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  std::lock_guard<std::mutex> job_lock(job_mutex_);
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lk(wake_mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_cv_.notify_all();
  fn(0, n_threads_);
  // Workers finish within microseconds of each other when they run; if one was preempted
  // (another process, another model's engine), give the core away instead of spinning on it.
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 2000) _mm_pause();
    else std::this_thread::yield();
  }
  job_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n <= grain || n_threads_ == 1) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  run([&](int, int) {
    for (;;) {
      int64_t b = next.fetch_add(grain, std::memory_order_relaxed);
      if (b >= n) break;
      fn(b, std::min(n, b + grain));
    }
  });
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool([] {
    int n = g_requested_threads.load();
    return n > 0 ? n : cpu_features().physical_cores;
  }());
  return pool;
}

void ThreadPool::set_global_threads(int n) { g_requested_threads.store(n); }

}  // namespace corral
