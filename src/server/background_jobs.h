// Threads for slow request work that must never run on an io thread: model creation (hashing
// and copying GBs), blob uploads (disk writes while the body streams in). One thread per job:
// such jobs are few and long, and a blocked job must not hold up the others. The destructor
// waits for running jobs, so whatever they reference (the store) must outlive this object.
// At most `max_running` run at once, so a client opening thousands of uploads gets refusals
// (the caller answers 503), not thousands of threads.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace corral::server {

class BackgroundJobs {
 public:
  // 64: far more creates and uploads than one machine's disk can usefully serve together.
  explicit BackgroundJobs(size_t max_running = 64) : max_running_(max_running) {}
  ~BackgroundJobs();
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;

  // Starts `job` on its own thread; `what` names it in the log if it throws. False (and the
  // job is not run) when max_running jobs are running or the system refuses a thread.
  [[nodiscard]] bool run(std::string what, std::function<void()> job);
  // Jobs still running (for tests and metrics).
  size_t running() const;

 private:
  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void reap_locked();  // joins the threads of finished jobs

  size_t max_running_;
  mutable std::mutex mu_;
  std::list<Job> jobs_;
};

}  // namespace corral::server
