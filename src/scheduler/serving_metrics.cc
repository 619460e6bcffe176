#include "scheduler/serving_metrics.h"

#include <chrono>

#include "scheduler/job.h"
#include "scheduler/vllm_metrics.h"

namespace corral::scheduler {
namespace {

// Latencies on a CPU server span milliseconds (a tiny model's first token) to minutes (a long
// prompt behind a full queue), so the buckets reach far beyond vLLM's GPU-sized ones.
const std::vector<double> kLatencyBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                             5,    10,    20,   40,  80,   160, 320, 640};
// Per-token times: 10 ms (fast) to 10 s (a 1B model on 2 cores with 16 sequences in a batch).
const std::vector<double> kTokenBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3,
                                           0.4,  0.5,   0.75, 1,     2.5, 5,    10};
const std::vector<double> kE2eBuckets = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 240, 480, 960, 1920};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

ServingMetrics::ServingMetrics()
    : running_(
          registry_.gauge("corral:num_requests_running", "Requests in a slot (prefilling or decoding).", {"model"})),
      waiting_(registry_.gauge("corral:num_requests_waiting",
                               "Requests waiting for a free slot or for their model to load.", {"model"})),
      kv_usage_(registry_.gauge("corral:kv_cache_usage_perc",
                                "Fraction of the model's KV cache in use (0-1), cached prefixes included.", {"model"})),
      slots_(registry_.gauge("corral:num_slots", "Parallel slots of the loaded model (its num_parallel).", {"model"})),
      kv_blocks_(registry_.gauge("corral:num_kv_blocks",
                                 "KV cache blocks of the loaded model (each holds a fixed number of positions, "
                                 "the block_size of vllm:cache_config_info).",
                                 {"model"})),
      preemptions_(registry_.counter("corral:num_preemptions_total",
                                     "Running requests whose KV cache was taken back to be recomputed later.",
                                     {"model"})),
      finished_(registry_.counter("corral:requests_finished_total",
                                  "Requests that ended, by why: stop (end of generation or a stop sequence), length "
                                  "(num_predict or the context), cancelled (the client went away) or error.",
                                  {"model", "reason"})),
      prompt_tokens_(registry_.counter("corral:prompt_tokens_total",
                                       "Prompt tokens computed; tokens reused from the prefix cache are counted in "
                                       "corral:prefix_cache_hit_tokens_total instead.",
                                       {"model"})),
      generation_tokens_(registry_.counter("corral:generation_tokens_total", "Tokens generated.", {"model"})),
      prefix_hits_(registry_.counter("corral:prefix_cache_hits_total", "Requests that reused a cached prompt prefix.",
                                     {"model"})),
      prefix_hit_tokens_(registry_.counter("corral:prefix_cache_hit_tokens_total",
                                           "Prompt tokens reused from the prefix cache instead of computed.",
                                           {"model"})),
      requests_(registry_.counter("corral:requests_total",
                                  "Finished inference requests by the status the API answered.", {"model", "status"})),
      rejections_(registry_.counter("corral:request_rejections_total",
                                    "Requests refused because OLLAMA_MAX_QUEUE requests were waiting.", {"model"})),
      cancellations_(registry_.counter("corral:request_cancellations_total",
                                       "Requests cancelled because the client disconnected.", {"model"})),
      loads_(registry_.counter("corral:model_loads_total", "Models loaded.", {"model"})),
      load_failures_(registry_.counter("corral:model_load_failures_total", "Model loads that failed.", {"model"})),
      unloads_(registry_.counter("corral:model_unloads_total",
                                 "Models unloaded: evicted (memory or OLLAMA_MAX_LOADED_MODELS), expired "
                                 "(keep-alive) or requested (keep_alive 0, corral stop).",
                                 {"model", "reason"})),
      ttft_(registry_.histogram("corral:time_to_first_token_seconds",
                                "From request arrival to its first generated token (queue and load included).",
                                {"model"}, kLatencyBuckets)),
      tpot_(registry_.histogram("corral:time_per_output_token_seconds",
                                "Mean time per generated token after the first, per request.", {"model"},
                                kTokenBuckets)),
      queue_time_(registry_.histogram("corral:request_queue_time_seconds",
                                      "From request arrival until it got a slot (waiting for a load included).",
                                      {"model"}, kLatencyBuckets)),
      e2e_(registry_.histogram("corral:e2e_request_latency_seconds", "From request arrival to its last token.",
                               {"model"}, kE2eBuckets)),
      step_(registry_.histogram("corral:engine_step_duration_seconds",
                                "One batched forward pass over every running sequence.", {"model"},
                                metrics::exponential_buckets(0.001, 2, 16))) {
  register_vllm_metrics(registry_, *this);
}

std::shared_ptr<ModelMetrics> ServingMetrics::for_model(const std::string& model) {
  std::lock_guard<std::mutex> lk(mu_);
  auto& m = models_[model];
  if (!m) {
    const std::vector<std::string> l{model};
    m = std::make_shared<ModelMetrics>(ModelMetrics{prompt_tokens_.with(l),
                                                    generation_tokens_.with(l),
                                                    prefix_hits_.with(l),
                                                    prefix_hit_tokens_.with(l),
                                                    rejections_.with(l),
                                                    cancellations_.with(l),
                                                    ttft_.with(l),
                                                    tpot_.with(l),
                                                    queue_time_.with(l),
                                                    e2e_.with(l),
                                                    step_.with(l),
                                                    running_.with(l),
                                                    waiting_.with(l),
                                                    kv_usage_.with(l),
                                                    slots_.with(l),
                                                    kv_blocks_.with(l),
                                                    preemptions_.with(l),
                                                    finished_.with({model, "stop"}),
                                                    finished_.with({model, "length"}),
                                                    finished_.with({model, "cancelled"}),
                                                    finished_.with({model, "error"})});
  }
  return m;
}

std::vector<std::pair<std::string, std::shared_ptr<ModelMetrics>>> ServingMetrics::models() {
  std::lock_guard<std::mutex> lk(mu_);
  return {models_.begin(), models_.end()};
}

void ServingMetrics::request_finished(const std::string& model, const std::string& status) {
  requests_.with({model, status}).inc();
}

void ServingMetrics::observe_completed(ModelMetrics& m, const JobStats& s, bool completion) {
  m.queue_time.observe(seconds(s.queue_duration));
  m.e2e_latency.observe(seconds(s.total_duration));
  if (!completion) return;
  // A first token that was end-of-generation still had a time to first token.
  if (s.time_to_first_token > Clock::duration::zero()) m.time_to_first_token.observe(seconds(s.time_to_first_token));
  if (s.eval_count > 1)
    m.time_per_output_token.observe(seconds(s.total_duration - s.time_to_first_token) /
                                    static_cast<double>(s.eval_count - 1));
}

void ServingMetrics::reset_gauges() {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& [name, m] : models_) {
    m->running.set(0);
    m->waiting.set(0);
    m->kv_usage.set(0);
    m->slots.set(0);
    m->kv_blocks.set(0);
  }
}

void ServingMetrics::model_loaded(const std::string& model) { loads_.with({model}).inc(); }

void ServingMetrics::model_load_failed(const std::string& model) { load_failures_.with({model}).inc(); }

void ServingMetrics::model_unloaded(const std::string& model, const char* reason) {
  unloads_.with({model, reason}).inc();
}

}  // namespace corral::scheduler
