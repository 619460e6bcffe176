// How a server shares its slots between tenants and priority classes (docs/fairness.md):
//   CORRAL_FAIRNESS   "tenant" (default): slots and the per-step prompt budget go round robin
//                     over tenants; "fcfs": first come first served within a priority class.
//   CORRAL_OBJECTIVES the names x-llm-d-inference-objective may carry and the priority each
//                     maps to, "name=priority,..." (lower runs first, vLLM's convention);
//                     default "critical=-1,standard=0,sheddable=1" (0: a request without one).
//   CORRAL_PREEMPT    "1": a queued request of a better class takes the slot of a running one
//                     of a worse class, whose KV is freed and recomputed when it resumes.
//   CORRAL_TENANT_PREEMPT "1" (default, with CORRAL_FAIRNESS=tenant): a queued request of a
//                     tenant holding at least two slots fewer than another tenant takes a slot of
//                     that tenant's (same or worse class), so a tenant gets a slot within a step
//                     instead of waiting for another tenant's request to end; "0": round robin
//                     over the queue only.
//   CORRAL_TENANTS    tenant names (comma-separated) that get their own metrics label, besides
//                     the CORRAL_API_KEYS tenants; every other tenant is counted as "other".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace corral::scheduler {

struct Objective {
  std::string name;
  int priority = 0;
};

struct FairnessConfig {
  bool by_tenant = true;
  bool preempt = false;
  bool tenant_preempt = true;  // only acts with by_tenant and at least two tenants contending
  std::vector<Objective> objectives = {{"critical", -1}, {"standard", 0}, {"sheddable", 1}};
  std::vector<std::string> metric_tenants;  // tenants with their own label (the rest: "other")
};

// Bounds a request's priority (the body's `priority`, an objective's value) so none can sit
// outside every class the metrics and docs describe; vLLM takes any int, real ones are small.
constexpr int kMaxAbsPriority = 1000000;

// "critical=-1,standard=0": every entry name=integer, names [A-Za-z0-9_.-]+ and unique.
Result<std::vector<Objective>> parse_objectives(const std::string& s);
// "a,b,c" -> names (blank entries skipped); each 1-64 characters of [A-Za-z0-9_.@-].
Result<std::vector<std::string>> parse_tenant_names(const std::string& s, const char* what);

// A tenant's metrics label: its own name when configured, "default" for requests without one,
// else "other" (bounded label cardinality).
std::string tenant_label(const FairnessConfig& c, const std::string& tenant);
// A priority's metrics label: the name of the objective with that value ("critical"), else
// "other".
std::string priority_label(const FairnessConfig& c, int priority);

// Reads CORRAL_FAIRNESS, CORRAL_OBJECTIVES, CORRAL_PREEMPT, CORRAL_TENANT_PREEMPT and CORRAL_TENANTS; an unparsable
// value is an error naming the variable.
Result<FairnessConfig> fairness_config_from_env();

}  // namespace corral::scheduler
