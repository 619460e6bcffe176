// The model server protocol on the real server: GET /metrics carries, beside corral's own
// series, every series the Gateway API Inference Extension's endpoint picker reads (GIE
// docs/proposals/003-model-server-protocol, llm-d-router docs/plugin-metric-protocol.md) under
// vLLM's names, types and labels, and their values follow the load: requests waiting while the
// single slot is busy, one running, KV use rising with a long generation, the KV block layout in
// vllm:cache_config_info, and the token counters and histograms agreeing with corral's.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/http_client.h"
#include "common/prometheus_text.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;
using Labels = std::map<std::string, std::string>;

PromExposition scrape(ServerProcess& s) {
  HttpResponse r = http_get(s.url("/metrics"));
  EXPECT_EQ(r.status, 200);
  PromExposition e = parse_prometheus_text(r.body);
  std::string errors;
  for (const auto& m : e.errors) errors += m + "\n";
  EXPECT_TRUE(e.errors.empty()) << errors << r.body;
  return e;
}

double value(const PromExposition& e, const std::string& name, const Labels& labels) {
  auto v = e.value(name, labels);
  EXPECT_TRUE(v.has_value()) << name;
  return v.value_or(-1);
}

// Every family the protocol documents (and the vLLM series corral adds), with its type and the
// label names every sample of it must carry.
struct Expected {
  const char* name;
  const char* type;
  std::set<std::string> labels;
};
const std::set<std::string> kModel = {"model_name", "engine"};
const Expected kProtocol[] = {
    {"vllm:num_requests_waiting", "gauge", kModel},  // TotalQueuedRequests
    {"vllm:num_requests_running", "gauge", kModel},  // TotalRunningRequests
    {"vllm:kv_cache_usage_perc", "gauge", kModel},   // KVCacheUtilization
    {"vllm:gpu_cache_usage_perc", "gauge", kModel},  // KVCacheUtilization, GIE's README name
    {"vllm:cache_config_info", "gauge", {"model_name", "engine", "block_size", "num_gpu_blocks"}},  // BlockSize,
                                                                                                    // NumGPUBlocks
    {"vllm:lora_requests_info", "gauge", {"max_lora", "running_lora_adapters", "waiting_lora_adapters"}},
    {"vllm:prompt_tokens_total", "counter", kModel},
    {"vllm:generation_tokens_total", "counter", kModel},
    {"vllm:prefix_cache_queries_total", "counter", kModel},
    {"vllm:prefix_cache_hits_total", "counter", kModel},
    {"vllm:num_preemptions_total", "counter", kModel},
    {"vllm:request_success_total", "counter", {"model_name", "engine", "finished_reason"}},
    {"vllm:time_to_first_token_seconds", "histogram", kModel},
    {"vllm:request_time_per_output_token_seconds", "histogram", kModel},
    {"vllm:e2e_request_latency_seconds", "histogram", kModel},
    {"vllm:request_queue_time_seconds", "histogram", kModel},
};

void expect_protocol_families(const PromExposition& e) {
  for (const Expected& x : kProtocol) {
    auto it = e.families.find(x.name);
    ASSERT_NE(it, e.families.end()) << x.name;
    EXPECT_EQ(it->second.type, x.type) << x.name;
    EXPECT_FALSE(it->second.samples.empty()) << x.name;
    for (const PromSample& s : it->second.samples)
      for (const std::string& l : x.labels) EXPECT_TRUE(s.labels.count(l)) << x.name << " lacks label " << l;
  }
}

HttpResponse generate(ServerProcess& s, const std::string& prompt, int num_predict) {
  return http_request("POST", s.url("/api/generate"),
                      json{{"model", "stories-ctx"},
                           {"prompt", prompt},
                           {"stream", false},
                           {"options", {{"num_predict", num_predict}, {"temperature", 0}}}}
                          .dump(),
                      nullptr, 120);
}

TEST(ModelServerProtocol, VllmSeriesFollowTheLoad) {
  // One slot: a second request waits, which is what the picker's queue scorer must see.
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}});
  ASSERT_TRUE(s);
  // Without adapters the LoRA family is still there (the reference picker scrapes it): no
  // adapters, a recent timestamp.
  auto empty = scrape(*s);
  const double lora = value(empty, "vllm:lora_requests_info", {{"max_lora", "0"}, {"running_lora_adapters", ""}});
  EXPECT_GT(lora, 1.7e9) << "seconds since the epoch";

  ASSERT_EQ(generate(*s, "warm", 1).status, 200);
  const Labels m{{"model_name", "stories-ctx:latest"}, {"engine", "0"}};
  auto idle = scrape(*s);
  expect_protocol_families(idle);
  // The KV layout: 16-position blocks, as many as corral's own gauge counts.
  const double blocks = value(idle, "corral:num_kv_blocks", {{"model", "stories-ctx:latest"}});
  EXPECT_GT(blocks, 0);
  EXPECT_EQ(value(idle, "vllm:cache_config_info",
                  {{"model_name", "stories-ctx:latest"},
                   {"block_size", "16"},
                   {"num_gpu_blocks", std::to_string(static_cast<int64_t>(blocks))}}),
            1);
  EXPECT_EQ(value(idle, "vllm:num_requests_running", m), 0);
  EXPECT_EQ(value(idle, "vllm:num_requests_waiting", m), 0);
  const double kv_idle = value(idle, "vllm:kv_cache_usage_perc", m);
  EXPECT_GE(kv_idle, 0);
  EXPECT_LT(kv_idle, 1);
  EXPECT_EQ(value(idle, "vllm:gpu_cache_usage_perc", m), kv_idle);

  // Five long generations on one slot: while they run, one runs and the rest wait, and the KV
  // cache fills as the running one grows.
  constexpr int kRequests = 5;
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < kRequests; ++i)
    fs.push_back(
        std::async(std::launch::async, [&, i] { return generate(*s, "Long story " + std::to_string(i), 400); }));
  double max_waiting = 0, max_running = 0, max_kv = 0;
  std::set<double> kv_seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int finished = 0;
  while (finished < kRequests && std::chrono::steady_clock::now() < deadline) {
    auto e = scrape(*s);
    const double running = value(e, "vllm:num_requests_running", m);
    max_waiting = std::max(max_waiting, value(e, "vllm:num_requests_waiting", m));
    max_running = std::max(max_running, running);
    const double kv = value(e, "vllm:kv_cache_usage_perc", m);
    EXPECT_GE(kv, 0);
    EXPECT_LE(kv, 1);
    if (running > 0) kv_seen.insert(kv);
    max_kv = std::max(max_kv, kv);
    finished = 0;
    for (auto& f : fs) finished += f.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& f : fs) EXPECT_EQ(f.get().status, 200);
  EXPECT_GE(max_waiting, 1) << "requests queued behind the one slot";
  EXPECT_LE(max_waiting, kRequests - 1);
  EXPECT_EQ(max_running, 1);
  EXPECT_GT(max_kv, kv_idle) << "a 400-token generation holds KV blocks";
  EXPECT_GE(kv_seen.size(), 2u) << "KV use moves while requests run";

  auto after = scrape(*s);
  expect_protocol_families(after);
  EXPECT_EQ(value(after, "vllm:num_requests_running", m), 0);
  EXPECT_EQ(value(after, "vllm:num_requests_waiting", m), 0);
  // The same numbers as corral's own series, under vLLM's meaning.
  const Labels c{{"model", "stories-ctx:latest"}};
  const double prompt = value(after, "corral:prompt_tokens_total", c);
  const double hit = value(after, "corral:prefix_cache_hit_tokens_total", c);
  EXPECT_EQ(value(after, "vllm:prompt_tokens_total", m), prompt + hit);
  EXPECT_EQ(value(after, "vllm:prefix_cache_queries_total", m), prompt + hit);
  EXPECT_EQ(value(after, "vllm:prefix_cache_hits_total", m), hit);
  EXPECT_EQ(value(after, "vllm:generation_tokens_total", m), value(after, "corral:generation_tokens_total", c));
  EXPECT_GT(value(after, "vllm:generation_tokens_total", m), kRequests);
  EXPECT_EQ(value(after, "vllm:num_preemptions_total", m), 0);
  Labels stop = m, length = m, abort = m;
  stop["finished_reason"] = "stop";
  length["finished_reason"] = "length";
  abort["finished_reason"] = "abort";
  EXPECT_EQ(value(after, "vllm:request_success_total", stop) + value(after, "vllm:request_success_total", length),
            kRequests + 1);
  EXPECT_EQ(value(after, "vllm:request_success_total", abort), 0);
  for (const char* h : {"vllm:e2e_request_latency_seconds_count", "vllm:request_queue_time_seconds_count",
                        "vllm:time_to_first_token_seconds_count"})
    EXPECT_EQ(value(after, h, m), kRequests + 1) << h;
  EXPECT_EQ(value(after, "vllm:e2e_request_latency_seconds_sum", m),
            value(after, "corral:e2e_request_latency_seconds_sum", c));
  // Waiting behind four long generations shows in the queue-time histogram.
  EXPECT_GT(value(after, "vllm:request_queue_time_seconds_sum", m), 0);
}

}  // namespace
}  // namespace corral::testing
