#include "scheduler/preemption.h"

namespace corral::scheduler {

int choose_victim(const std::vector<SlotHolder>& running, const SlotSeeker& next,
                  const std::map<std::string, int>& held, const PreemptionPolicy& policy) {
  if (!policy.by_class && !policy.by_share) return -1;
  const auto slots_of = [&](const std::string& tenant) {
    const auto it = held.find(tenant);
    return it == held.end() ? 0 : it->second;
  };
  const int next_held = slots_of(*next.tenant);
  int victim = -1;
  int victim_held = 0;
  for (size_t i = 0; i < running.size(); ++i) {
    const SlotHolder& r = running[i];
    if (!r.preemptable) continue;
    const int r_held = slots_of(*r.tenant);
    const bool worse_class = policy.by_class && r.priority > next.priority;
    const bool over_share = policy.by_share && r.priority >= next.priority && *r.tenant != *next.tenant &&
                            r_held >= next_held + 2 && r.generated >= r.guard_until;
    if (!worse_class && !over_share) continue;
    const SlotHolder* v = victim < 0 ? nullptr : &running[static_cast<size_t>(victim)];
    if (!v || r.priority > v->priority ||
        (r.priority == v->priority && (r_held > victim_held || (r_held == victim_held && r.order > v->order)))) {
      victim = static_cast<int>(i);
      victim_held = r_held;
    }
  }
  return victim;
}

}  // namespace corral::scheduler
