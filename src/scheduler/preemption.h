// Which running request gives up its slot to a queued one (docs/fairness.md, "Preemption").
// Two reasons, each switched on separately:
//   by class  (CORRAL_PREEMPT=1): the queued request is of a better priority class;
//   by share  (CORRAL_TENANT_PREEMPT, on by default with CORRAL_FAIRNESS=tenant): the queued
//             request's tenant holds at least two slots fewer than the running one's, and the
//             running one is of the same or a worse class. Two, not one: the move then narrows
//             the gap instead of swapping who is ahead, so tenants holding a slot each never take
//             turns preempting one another, and every preemption strictly evens the split, so
//             between two requests ending there can be only a few.
// Among the candidates: the worst class first, then the tenant holding the most slots, then the
// newest (vLLM preempts the newest request: it has the least work to lose). Pure logic: the
// runner describes its slots, this picks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace corral::scheduler {

struct PreemptionPolicy {
  bool by_class = false;
  bool by_share = false;
};

// One running request, as preemption sees it.
struct SlotHolder {
  int priority = 0;
  const std::string* tenant = nullptr;  // the fair queue's key for it (one key for all in FCFS)
  uint64_t order = 0;                   // admission order: higher is newer
  bool preemptable = true;              // embeddings are one short pass: never worth recomputing
  // Share preemption spares it until it has generated `guard_until` tokens in all (set when a
  // preempted request resumes, so it makes progress before it can lose its slot again).
  int64_t generated = 0;
  int64_t guard_until = 0;
};

// The queued request that would get the slot.
struct SlotSeeker {
  int priority = 0;
  const std::string* tenant = nullptr;
};

// Index into `running` of the request that gives up its slot for `next`, or -1 for none.
// `held`: slots per tenant key (running ones plus any already given out this step).
int choose_victim(const std::vector<SlotHolder>& running, const SlotSeeker& next,
                  const std::map<std::string, int>& held, const PreemptionPolicy& policy);

}  // namespace corral::scheduler
