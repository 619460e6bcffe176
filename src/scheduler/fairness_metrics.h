// Metrics per tenant and per priority class (docs/fairness.md): requests, queue time and time to
// first token by tenant (the configured ones, "default" and "other": bounded cardinality) and
// by priority class (CORRAL_OBJECTIVES' names and "other"), and deadline refusals per model
// (preemptions are ServingMetrics' corral:num_preemptions_total). Registered in the scheduler's registry next to ServingMetrics' series.
#pragma once

#include <string>

#include "base/metrics.h"
#include "scheduler/job.h"

namespace corral::scheduler {

class FairnessMetrics {
 public:
  explicit FairnessMetrics(metrics::Registry& registry);

  // A job ended (kDone or kError) under these labels.
  void observe_finished(const std::string& tenant, const std::string& priority_class, const JobEvent& e);
  // A request refused because its TTFT deadline could not be met: "predicted" at arrival,
  // "expired" while queued.
  void deadline_missed(const std::string& model, const char* when);

 private:
  metrics::Family<metrics::Counter>& tenant_requests_;
  metrics::Family<metrics::Histogram>& tenant_queue_time_;
  metrics::Family<metrics::Histogram>& tenant_ttft_;
  metrics::Family<metrics::Counter>& class_requests_;
  metrics::Family<metrics::Histogram>& class_queue_time_;
  metrics::Family<metrics::Histogram>& class_ttft_;
  metrics::Family<metrics::Counter>& deadline_;
};

}  // namespace corral::scheduler
