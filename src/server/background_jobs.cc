#include "server/background_jobs.h"

#include <exception>
#include <system_error>

#include <spdlog/spdlog.h>

namespace corral::server {

BackgroundJobs::~BackgroundJobs() {
  std::list<Job> jobs;
  {
    std::lock_guard lock(mu_);
    jobs.swap(jobs_);
  }
  if (!jobs.empty()) spdlog::info("waiting for {} background job(s) to finish", jobs.size());
  for (Job& j : jobs) j.thread.join();
}

bool BackgroundJobs::run(std::string what, std::function<void()> job) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mu_);
  reap_locked();
  if (jobs_.size() >= max_running_) {
    spdlog::warn("{}: refused, {} background jobs already running", what, jobs_.size());
    return false;
  }
  std::thread t;
  try {
    t = std::thread([what, job = std::move(job), done] {
      // A job that throws must not take the server down with std::terminate.
      try {
        job();
      } catch (const std::exception& e) { spdlog::error("{}: {}", what, e.what()); } catch (...) {
        spdlog::error("{}: unknown exception", what);
      }
      done->store(true, std::memory_order_release);
    });
  } catch (const std::system_error& e) {
    spdlog::error("{}: cannot start a thread: {}", what, e.what());
    return false;
  }
  jobs_.push_back(Job{std::move(t), std::move(done)});
  return true;
}

size_t BackgroundJobs::running() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const Job& j : jobs_) n += j.done->load(std::memory_order_acquire) ? 0 : 1;
  return n;
}

void BackgroundJobs::reap_locked() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->done->load(std::memory_order_acquire)) {
      it->thread.join();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace corral::server
