// A fixed pool of compute threads. The calling thread takes part as worker 0, so a pool of
// n threads starts n-1 of its own. One job runs at a time: concurrent callers (several models'
// engine threads) take turns instead of oversubscribing the cores.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace corral {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) once on every thread of the pool and waits for all.
  void run(const std::function<void(int ith, int nth)>& fn);

  // Runs fn(i) for i in [0, n), handing out indices dynamically in chunks of `grain`.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

  // The process-wide pool every model shares (thread count from set_global_threads, else
  // the number of physical cores).
  static ThreadPool& global();
  // Sets the global pool's size; only effective before the first call to global().
  static void set_global_threads(int n);

 private:
  void worker_loop(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex job_mutex_;  // serialises run() callers
  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace corral
