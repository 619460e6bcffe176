// Threads for slow request work that must never run on an io thread: model creation (hashing
// and copying GBs), blob uploads (disk writes while the body streams in). One thread per job:
// such jobs are few and long, and a blocked job must not hold up the others. The destructor
// waits for running jobs, so whatever they reference (the store) must outlive this object.
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
  BackgroundJobs() = default;
  ~BackgroundJobs();
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;

  // Starts `job` on its own thread; `what` names it in the log if it throws.
  void run(std::string what, std::function<void()> job);
  // Jobs still running (for tests and metrics).
  size_t running() const;

 private:
  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void reap_locked();  // joins the threads of finished jobs

  mutable std::mutex mu_;
  std::list<Job> jobs_;
};

}  // namespace corral::server
