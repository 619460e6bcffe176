#include "scheduler/vllm_metrics.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/kv_storage.h"
#include "scheduler/serving_metrics.h"

namespace corral::scheduler {
namespace {

using metrics::Collected;
using metrics::Histogram;
using metrics::Type;

const std::vector<std::string> kLabels = {"model_name", "engine"};
// corral runs one engine per model, vLLM numbers the engine cores of a server from 0.
constexpr const char* kEngine = "0";

// One double per model, read from its ModelMetrics.
template <typename F>
std::function<Collected<double>::Samples()> per_model(ServingMetrics& source, F read) {
  return [&source, read] {
    Collected<double>::Samples out;
    for (const auto& [name, m] : source.models()) out.push_back({{name, kEngine}, read(*m)});
    return out;
  };
}

std::function<Collected<Histogram::Snapshot>::Samples()> per_model_histogram(ServingMetrics& source,
                                                                             Histogram& (*pick)(ModelMetrics&)) {
  return [&source, pick] {
    Collected<Histogram::Snapshot>::Samples out;
    for (const auto& [name, m] : source.models()) out.push_back({{name, kEngine}, pick(*m).snapshot()});
    return out;
  };
}

double seconds_since_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void register_vllm_metrics(metrics::Registry& r, ServingMetrics& src) {
  // The picker's inputs (llm-d-router docs/plugin-metric-protocol.md): queue, running, KV use.
  r.collected("vllm:num_requests_waiting", "Requests waiting to be processed (for a slot or for their model to load).",
              Type::kGauge, kLabels, per_model(src, [](ModelMetrics& m) { return m.waiting.value(); }));
  r.collected("vllm:num_requests_running", "Requests in model execution batches (prefilling or decoding).",
              Type::kGauge, kLabels, per_model(src, [](ModelMetrics& m) { return m.running.value(); }));
  r.collected("vllm:kv_cache_usage_perc", "KV-cache usage: 1 means 100 percent (cached prompt prefixes included).",
              Type::kGauge, kLabels, per_model(src, [](ModelMetrics& m) { return m.kv_usage.value(); }));
  // The name vLLM 0.x used and GIE's model server protocol README (and older endpoint pickers'
  // default --kv-cache-usage-percentage-metric) still name.
  r.collected("vllm:gpu_cache_usage_perc",
              "KV-cache usage: 1 means 100 percent (the older name of vllm:kv_cache_usage_perc).", Type::kGauge,
              kLabels, per_model(src, [](ModelMetrics& m) { return m.kv_usage.value(); }));
  // An info metric (value 1): the prefix-cache scorer's auto-tuning reads block_size and
  // num_gpu_blocks from its labels. Only models with a KV cache (loaded) have one.
  r.collected(
      "vllm:cache_config_info", "Information of the KV cache configuration (labels; value 1).", Type::kGauge,
      {"model_name", "engine", "block_size", "num_gpu_blocks", "enable_prefix_caching"}, [&src] {
        Collected<double>::Samples out;
        for (const auto& [name, m] : src.models()) {
          const auto blocks = static_cast<int64_t>(m->kv_blocks.value());
          if (blocks <= 0) continue;
          out.push_back({{name, kEngine, std::to_string(model::kKvBlockTokens), std::to_string(blocks), "True"}, 1.0});
        }
        return out;
      });
  // corral serves no LoRA adapters. The reference picker's default metric mapping still scrapes
  // this family and records an error for every scrape that lacks it, so it is here, empty:
  // max_lora 0, no running or waiting adapters, the value the time it was last updated (now).
  r.collected("vllm:lora_requests_info", "Running stats on LoRA requests (corral serves no adapters).", Type::kGauge,
              {"max_lora", "running_lora_adapters", "waiting_lora_adapters"}, [] {
                return Collected<double>::Samples{{{"0", "", ""}, seconds_since_epoch()}};
              });

  // vLLM's other common series, where corral has the number.
  // vLLM counts every prompt token of a request; corral's prompt counter leaves out the reused ones.
  r.collected("vllm:prompt_tokens_total", "Number of prefill tokens processed (prefix-cache hits included).",
              Type::kCounter, kLabels, per_model(src, [](ModelMetrics& m) {
                return m.prompt_tokens.value() + m.prefix_cache_hit_tokens.value();
              }));
  r.collected("vllm:generation_tokens_total", "Number of generation tokens processed.", Type::kCounter, kLabels,
              per_model(src, [](ModelMetrics& m) { return m.generation_tokens.value(); }));
  // Every prompt token is looked up in the prefix cache (tokens, as vLLM counts them).
  r.collected("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.",
              Type::kCounter, kLabels, per_model(src, [](ModelMetrics& m) {
                return m.prompt_tokens.value() + m.prefix_cache_hit_tokens.value();
              }));
  r.collected("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", Type::kCounter,
              kLabels, per_model(src, [](ModelMetrics& m) { return m.prefix_cache_hit_tokens.value(); }));
  r.collected("vllm:num_preemptions_total", "Cumulative number of preemptions from the engine.", Type::kCounter,
              kLabels, per_model(src, [](ModelMetrics& m) { return m.preemptions.value(); }));
  r.collected("vllm:request_success_total", "Count of finished requests, by finish reason (abort: the client left).",
              Type::kCounter, {"model_name", "engine", "finished_reason"}, [&src] {
                Collected<double>::Samples out;
                for (const auto& [name, m] : src.models()) {
                  out.push_back({{name, kEngine, "stop"}, m->finished_stop.value()});
                  out.push_back({{name, kEngine, "length"}, m->finished_length.value()});
                  out.push_back({{name, kEngine, "abort"}, m->finished_cancelled.value()});
                  out.push_back({{name, kEngine, "error"}, m->finished_error.value()});
                }
                return out;
              });
  r.collected_histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", kLabels,
                        per_model_histogram(src, [](ModelMetrics& m) -> Histogram& { return m.time_to_first_token; }));
  // corral measures time per output token per request (its mean after the first token): vLLM's
  // per-request series. vLLM's per-token vllm:inter_token_latency_seconds is not exposed.
  r.collected_histogram(
      "vllm:request_time_per_output_token_seconds", "Histogram of time_per_output_token_seconds per request.", kLabels,
      per_model_histogram(src, [](ModelMetrics& m) -> Histogram& { return m.time_per_output_token; }));
  r.collected_histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", kLabels,
                        per_model_histogram(src, [](ModelMetrics& m) -> Histogram& { return m.e2e_latency; }));
  r.collected_histogram("vllm:request_queue_time_seconds",
                        "Histogram of time spent waiting in the queue (model load included) in seconds.", kLabels,
                        per_model_histogram(src, [](ModelMetrics& m) -> Histogram& { return m.queue_time; }));
}

}  // namespace corral::scheduler
