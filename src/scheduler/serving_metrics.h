// What the scheduler and its runners report at GET /metrics: the metric names (vLLM's where
// vLLM has one, with our "corral:" prefix), their help text and buckets, and a per-model
// bundle of children that a runner updates without locks. The same numbers under vLLM's own
// names (the model server protocol a gateway's endpoint picker reads) are vllm_metrics.h's.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/metrics.h"

namespace corral::scheduler {

struct JobStats;

// One model's children, looked up once when its runner starts; every update is one or two
// relaxed atomics (see base/metrics.h).
struct ModelMetrics {
  metrics::Counter& prompt_tokens;  // prompt tokens computed (prefix-cache hits excluded)
  metrics::Counter& generation_tokens;
  metrics::Counter& prefix_cache_hits;  // requests that reused a cached prefix
  metrics::Counter& prefix_cache_hit_tokens;
  metrics::Counter& rejections;     // OLLAMA_MAX_QUEUE reached
  metrics::Counter& cancellations;  // the client went away
  metrics::Histogram& time_to_first_token;
  metrics::Histogram& time_per_output_token;
  metrics::Histogram& queue_time;
  metrics::Histogram& e2e_latency;
  metrics::Histogram& step_duration;  // one batched forward pass
  metrics::Gauge& running;
  metrics::Gauge& waiting;
  metrics::Gauge& kv_usage;
  metrics::Gauge& slots;
  metrics::Gauge& kv_blocks;          // KV cache blocks (model::kKvBlockTokens positions each)
  metrics::Counter& preemptions;      // running requests whose KV was taken back (CORRAL_PREEMPT)
  metrics::Counter& finished_stop;    // requests that ended by end-of-generation or a stop sequence
  metrics::Counter& finished_length;  // ... by num_predict or the context limit
  metrics::Counter& finished_cancelled;
  metrics::Counter& finished_error;
};

class ServingMetrics {
 public:
  ServingMetrics();

  metrics::Registry& registry() { return registry_; }
  // The model's children (by display name, e.g. "llama3.2:latest"); the same object for the
  // same name, for the registry's whole life.
  std::shared_ptr<ModelMetrics> for_model(const std::string& model);

  // A request ended with this status, as the API layer answers it (its label value).
  void request_finished(const std::string& model, const std::string& status);
  // Latency histograms of a request that completed (not cancelled, not failed).
  void observe_completed(ModelMetrics& m, const JobStats& stats, bool completion);
  // Every model's children seen so far (a copy, for rendering their other views).
  std::vector<std::pair<std::string, std::shared_ptr<ModelMetrics>>> models();
  void model_loaded(const std::string& model);
  void model_load_failed(const std::string& model);
  // reason: "evicted" (memory / OLLAMA_MAX_LOADED_MODELS), "expired" (keep-alive), "requested".
  void model_unloaded(const std::string& model, const char* reason);
  // Sets every model's gauges to 0 (before a scrape sets the loaded ones).
  void reset_gauges();

 private:
  metrics::Registry registry_;
  metrics::Family<metrics::Gauge>& running_;
  metrics::Family<metrics::Gauge>& waiting_;
  metrics::Family<metrics::Gauge>& kv_usage_;
  metrics::Family<metrics::Gauge>& slots_;
  metrics::Family<metrics::Gauge>& kv_blocks_;
  metrics::Family<metrics::Counter>& preemptions_;
  metrics::Family<metrics::Counter>& finished_;
  metrics::Family<metrics::Counter>& prompt_tokens_;
  metrics::Family<metrics::Counter>& generation_tokens_;
  metrics::Family<metrics::Counter>& prefix_hits_;
  metrics::Family<metrics::Counter>& prefix_hit_tokens_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Counter>& rejections_;
  metrics::Family<metrics::Counter>& cancellations_;
  metrics::Family<metrics::Counter>& loads_;
  metrics::Family<metrics::Counter>& load_failures_;
  metrics::Family<metrics::Counter>& unloads_;
  metrics::Family<metrics::Histogram>& ttft_;
  metrics::Family<metrics::Histogram>& tpot_;
  metrics::Family<metrics::Histogram>& queue_time_;
  metrics::Family<metrics::Histogram>& e2e_;
  metrics::Family<metrics::Histogram>& step_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelMetrics>> models_;  // guarded by mu_
};

}  // namespace corral::scheduler
