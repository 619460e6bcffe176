// The jobs waiting for a slot in one runner, in the order they get one: the best priority class
// first (the lowest JobQos::priority, vLLM's convention); within a class round robin over
// tenants, each tenant's own jobs in arrival order. So one tenant with many queued requests
// cannot keep another one's request waiting behind all of them, as first come first served
// would. With one tenant (or fairness off: CORRAL_FAIRNESS=fcfs, every job counted as the
// same tenant) it is arrival order within a class, as before. Not thread-safe: the runner
// guards it with its mutex.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/job.h"

namespace corral::scheduler {

class FairQueue {
 public:
  explicit FairQueue(bool by_tenant = true) : by_tenant_(by_tenant) {}

  void push(std::shared_ptr<Job> job);
  // A job that had a slot and lost it (preemption) goes back to its place among its tenant's
  // jobs by arrival (job->created), not to the back: it arrived before the ones queued after it.
  void requeue(std::shared_ptr<Job> job);
  // The job pop() hands out next, left in the queue; null when empty.
  const Job* peek() const;
  // The next job to admit; null when empty.
  std::shared_ptr<Job> pop();
  // Moves every job `pred` holds for into `out` (in queue order).
  void remove_if(const std::function<bool(const Job&)>& pred, std::vector<std::shared_ptr<Job>>* out);
  // Every job, in no particular order; the queue is empty afterwards.
  std::vector<std::shared_ptr<Job>> take_all();

  // The key the queue shares by: the job's tenant, or one key for all in FCFS mode.
  const std::string& tenant_of(const JobQos& qos) const { return tenant_key(qos); }
  bool by_tenant() const { return by_tenant_; }
  // The best (lowest) priority waiting; nullopt when empty.
  std::optional<int> best_priority() const;
  // How many queued jobs pop() hands out before a job of `qos` pushed now: every job of a
  // better class, in its own class its tenant's queued jobs and, of each other tenant, as many
  // as round robin serves before it (one more than its tenant has queued, at most).
  int position_for(const JobQos& qos) const;
  // Jobs of `tenant` (a tenant_of key) queued in any class.
  int queued_of(const std::string& tenant) const;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  using Tenants = std::map<std::string, std::deque<std::shared_ptr<Job>>>;
  const std::string& tenant_key(const JobQos& qos) const;
  // The tenant pop() serves next in the best class: the one after the last served (wrapping).
  // classes_ must not be empty.
  Tenants::const_iterator next_tenant() const;

  bool by_tenant_;
  std::map<int, Tenants> classes_;          // priority -> tenant -> jobs in arrival order
  std::map<int, std::string> last_served_;  // priority -> tenant served last (the round's cursor)
  size_t size_ = 0;
};

}  // namespace corral::scheduler
