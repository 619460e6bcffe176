#include "scheduler/fair_queue.h"

#include <algorithm>

namespace corral::scheduler {
namespace {

const std::string kOneTenant;

}  // namespace

const std::string& FairQueue::tenant_key(const JobQos& qos) const { return by_tenant_ ? qos.tenant : kOneTenant; }

void FairQueue::push(std::shared_ptr<Job> job) {
  Tenants& t = classes_[job->qos.priority];
  t[tenant_key(job->qos)].push_back(std::move(job));
  ++size_;
}

void FairQueue::requeue(std::shared_ptr<Job> job) {
  auto& q = classes_[job->qos.priority][tenant_key(job->qos)];
  const auto at =
      std::find_if(q.begin(), q.end(), [&](const std::shared_ptr<Job>& j) { return j->created > job->created; });
  q.insert(at, std::move(job));
  ++size_;
}

// The tenant after the one served last in this class (wrapping round), so each tenant with
// jobs queued gets one slot per round.
FairQueue::Tenants::const_iterator FairQueue::next_tenant() const {
  const auto cls = classes_.begin();
  const Tenants& tenants = cls->second;
  auto cursor = last_served_.find(cls->first);
  auto it = cursor == last_served_.end() ? tenants.begin() : tenants.upper_bound(cursor->second);
  return it == tenants.end() ? tenants.begin() : it;
}

const Job* FairQueue::peek() const {
  if (classes_.empty()) return nullptr;
  return next_tenant()->second.front().get();
}

std::shared_ptr<Job> FairQueue::pop() {
  if (classes_.empty()) return nullptr;
  auto cls = classes_.begin();
  Tenants& tenants = cls->second;
  auto it = tenants.find(next_tenant()->first);
  std::shared_ptr<Job> job = std::move(it->second.front());
  it->second.pop_front();
  last_served_[cls->first] = it->first;
  if (it->second.empty()) tenants.erase(it);
  if (tenants.empty()) classes_.erase(cls);
  --size_;
  return job;
}

void FairQueue::remove_if(const std::function<bool(const Job&)>& pred, std::vector<std::shared_ptr<Job>>* out) {
  for (auto cls = classes_.begin(); cls != classes_.end();) {
    for (auto t = cls->second.begin(); t != cls->second.end();) {
      auto& q = t->second;
      for (auto j = q.begin(); j != q.end();) {
        if (pred(**j)) {
          out->push_back(std::move(*j));
          j = q.erase(j);
          --size_;
        } else {
          ++j;
        }
      }
      t = q.empty() ? cls->second.erase(t) : std::next(t);
    }
    cls = cls->second.empty() ? classes_.erase(cls) : std::next(cls);
  }
}

std::vector<std::shared_ptr<Job>> FairQueue::take_all() {
  std::vector<std::shared_ptr<Job>> all;
  remove_if([](const Job&) { return true; }, &all);
  return all;
}

std::optional<int> FairQueue::best_priority() const {
  if (classes_.empty()) return std::nullopt;
  return classes_.begin()->first;
}

int FairQueue::queued_of(const std::string& tenant) const {
  size_t n = 0;
  for (const auto& [priority, tenants] : classes_)
    if (const auto it = tenants.find(tenant); it != tenants.end()) n += it->second.size();
  return static_cast<int>(n);
}

int FairQueue::position_for(const JobQos& qos) const {
  size_t ahead = 0;
  for (const auto& [priority, tenants] : classes_) {
    if (priority > qos.priority) break;
    const auto own = tenants.find(tenant_key(qos));
    const size_t own_queued = own == tenants.end() ? 0 : own->second.size();
    for (const auto& [name, jobs] : tenants) {
      if (priority < qos.priority || name == tenant_key(qos)) ahead += jobs.size();
      else ahead += std::min(jobs.size(), own_queued + 1);
    }
  }
  return static_cast<int>(ahead);
}

}  // namespace corral::scheduler
