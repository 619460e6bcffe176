#include "scheduler/fairness_metrics.h"

#include <chrono>

namespace corral::scheduler {
namespace {

// The same span as the per-model latency histograms (serving_metrics.cc): a tiny model's first
// token in milliseconds to minutes behind a full queue on a CPU.
const std::vector<double> kLatencyBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                             5,    10,    20,   40,  80,   160, 320, 640};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

const char* outcome(const JobEvent& e) {
  if (e.type == JobEvent::Type::kError) return e.deadline_missed() ? "deadline" : "error";
  return e.done_reason == DoneReason::kCancelled ? "cancelled" : "ok";
}

}  // namespace

FairnessMetrics::FairnessMetrics(metrics::Registry& r)
    : tenant_requests_(r.counter("corral:tenant_requests_total",
                                 "Finished requests by tenant (configured tenants, default, other) and outcome "
                                 "(ok, error, cancelled, deadline).",
                                 {"tenant", "outcome"})),
      tenant_queue_time_(r.histogram("corral:tenant_queue_time_seconds",
                                     "From arrival until a slot, by tenant, for requests that completed.", {"tenant"},
                                     kLatencyBuckets)),
      tenant_ttft_(r.histogram("corral:tenant_time_to_first_token_seconds",
                               "From arrival to the first generated token, by tenant.", {"tenant"}, kLatencyBuckets)),
      class_requests_(r.counter("corral:priority_requests_total",
                                "Finished requests by priority class (CORRAL_OBJECTIVES names, other) and outcome.",
                                {"priority_class", "outcome"})),
      class_queue_time_(r.histogram("corral:priority_queue_time_seconds",
                                    "From arrival until a slot, by priority class, for requests that completed.",
                                    {"priority_class"}, kLatencyBuckets)),
      class_ttft_(r.histogram("corral:priority_time_to_first_token_seconds",
                              "From arrival to the first generated token, by priority class.", {"priority_class"},
                              kLatencyBuckets)),
      deadline_(r.counter("corral:deadline_refusals_total",
                          "Requests answered 503 because their x-llm-d-slo-ttft-ms deadline could not be met: "
                          "predicted (refused on arrival) or expired (dropped from the queue).",
                          {"model", "when"})) {}

void FairnessMetrics::observe_finished(const std::string& tenant, const std::string& priority_class,
                                       const JobEvent& e) {
  const char* o = outcome(e);
  tenant_requests_.with({tenant, o}).inc();
  class_requests_.with({priority_class, o}).inc();
  if (e.type != JobEvent::Type::kDone || e.done_reason == DoneReason::kCancelled) return;
  tenant_queue_time_.with({tenant}).observe(seconds(e.stats.queue_duration));
  class_queue_time_.with({priority_class}).observe(seconds(e.stats.queue_duration));
  if (e.stats.time_to_first_token > Clock::duration::zero()) {
    tenant_ttft_.with({tenant}).observe(seconds(e.stats.time_to_first_token));
    class_ttft_.with({priority_class}).observe(seconds(e.stats.time_to_first_token));
  }
}

void FairnessMetrics::deadline_missed(const std::string& model, const char* when) {
  deadline_.with({model, when}).inc();
}

}  // namespace corral::scheduler
