// GET /metrics on the real server: the exposition is valid Prometheus text (every line checked
// by tests/common/prometheus_text.h), the names the issue asks for are there, and the values
// follow what the requests did: tokens, latencies, 503 rejections under a tiny
// OLLAMA_MAX_QUEUE, cancellations, prefix-cache hits, loads; plus the request log lines.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http_client.h"
#include "common/prometheus_text.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

PromExposition scrape(ServerProcess& s) {
  HttpResponse r = http_get(s.url("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  PromExposition e = parse_prometheus_text(r.body);
  std::string errors;
  for (const auto& m : e.errors) errors += m + "\n";
  EXPECT_TRUE(e.errors.empty()) << errors << r.body;
  return e;
}

double value(const PromExposition& e, const std::string& name, const std::map<std::string, std::string>& labels = {}) {
  auto v = e.value(name, labels);
  EXPECT_TRUE(v.has_value()) << name;
  return v.value_or(-1);
}

int generate(ServerProcess& s, const std::string& model, const std::string& prompt, int num_predict) {
  return static_cast<int>(
      http_post(
          s.url("/api/generate"),
          json{{"model", model}, {"prompt", prompt}, {"stream", false}, {"options", {{"num_predict", num_predict}}}}
              .dump())
          .status);
}

TEST(Metrics, NamesAndValuesFollowTheRequests) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "2"}});
  ASSERT_TRUE(s);
  auto before = scrape(*s);
  for (const char* name :
       {"corral:num_requests_running", "corral:num_requests_waiting", "corral:kv_cache_usage_perc",
        "corral:prompt_tokens_total", "corral:generation_tokens_total", "corral:time_to_first_token_seconds",
        "corral:time_per_output_token_seconds", "corral:request_queue_time_seconds",
        "corral:e2e_request_latency_seconds", "corral:request_rejections_total", "corral:request_cancellations_total",
        "corral:model_loads_total", "corral:model_unloads_total", "corral:prefix_cache_hits_total",
        "corral:http_connections"})
    EXPECT_TRUE(before.families.count(name)) << name;

  const std::map<std::string, std::string> tiny{{"model", "tiny:latest"}};
  ASSERT_EQ(generate(*s, "tiny", "Once upon a time there was a little dog", 8), 200);
  ASSERT_EQ(generate(*s, "tiny", "Once upon a time there was a little dog", 8), 200);  // same prompt: a prefix hit
  auto after = scrape(*s);
  EXPECT_EQ(value(after, "corral:requests_total", {{"model", "tiny:latest"}, {"status", "200"}}), 2);
  EXPECT_EQ(value(after, "corral:model_loads_total", tiny), 1);
  EXPECT_GT(value(after, "corral:prompt_tokens_total", tiny), 0);
  EXPECT_GT(value(after, "corral:generation_tokens_total", tiny), 0);
  EXPECT_LE(value(after, "corral:generation_tokens_total", tiny), 16);
  EXPECT_GE(value(after, "corral:prefix_cache_hits_total", tiny), 1);
  EXPECT_GT(value(after, "corral:prefix_cache_hit_tokens_total", tiny), 0);
  EXPECT_EQ(value(after, "corral:e2e_request_latency_seconds_count", tiny), 2);
  EXPECT_EQ(value(after, "corral:request_queue_time_seconds_count", tiny), 2);
  EXPECT_EQ(value(after, "corral:time_to_first_token_seconds_count", tiny), 2);
  EXPECT_GT(value(after, "corral:e2e_request_latency_seconds_sum", tiny), 0);
  EXPECT_GT(value(after, "corral:engine_step_duration_seconds_count", tiny), 0);
  EXPECT_EQ(value(after, "corral:num_requests_running", tiny), 0);
  EXPECT_EQ(value(after, "corral:num_requests_waiting", tiny), 0);
  EXPECT_EQ(value(after, "corral:num_slots", tiny), 2);
  const double kv = value(after, "corral:kv_cache_usage_perc", tiny);
  EXPECT_GT(kv, 0) << "the finished sequences stay cached as prefixes";
  EXPECT_LE(kv, 1);
  EXPECT_GE(value(after, "corral:http_connections"), 1);

  // Counters only grow.
  ASSERT_EQ(generate(*s, "tiny", "A cat", 4), 200);
  auto later = scrape(*s);
  EXPECT_GT(value(later, "corral:generation_tokens_total", tiny), value(after, "corral:generation_tokens_total", tiny));
  EXPECT_EQ(value(later, "corral:requests_total", {{"model", "tiny:latest"}, {"status", "200"}}), 3);

  // Unloading is counted by reason; the gauges of an unloaded model drop to 0.
  http_post(s->url("/api/generate"), R"({"model":"tiny","keep_alive":0})");
  auto unloaded = scrape(*s);
  EXPECT_EQ(value(unloaded, "corral:model_unloads_total", {{"model", "tiny:latest"}, {"reason", "requested"}}), 1);
  EXPECT_EQ(value(unloaded, "corral:num_slots", tiny), 0);

  // One request log line per request, with its figures.
  const std::string log = s->log();
  EXPECT_NE(log.find("request model=tiny:latest kind=completion status=200 done="), std::string::npos) << log;
  EXPECT_NE(log.find("ttft_ms="), std::string::npos);
  EXPECT_NE(log.find("tokens_per_s="), std::string::npos);
}

TEST(Metrics, RejectionsUnderATinyQueueAndCancellationsAreCounted) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}, {"OLLAMA_MAX_QUEUE", "1"}});
  ASSERT_TRUE(s);
  ASSERT_EQ(generate(*s, "stories-ctx", "warm", 1), 200);
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < 8; ++i)
    fs.push_back(std::async(std::launch::async, [&, i] {
      return http_request("POST", s->url("/api/generate"),
                          json{{"model", "stories-ctx"},
                               {"prompt", "Once " + std::to_string(i)},
                               {"stream", false},
                               {"options", {{"num_predict", 60}}}}
                              .dump(),
                          nullptr, 60);
    }));
  int ok = 0, busy = 0;
  for (auto& f : fs) {
    const long status = f.get().status;
    ok += status == 200;
    busy += status == 503;
  }
  ASSERT_EQ(ok + busy, 8);
  ASSERT_GE(busy, 1);
  const std::map<std::string, std::string> m{{"model", "stories-ctx:latest"}};
  auto e = scrape(*s);
  EXPECT_EQ(value(e, "corral:request_rejections_total", m), busy);
  EXPECT_EQ(value(e, "corral:requests_total", {{"model", "stories-ctx:latest"}, {"status", "503"}}), busy);
  EXPECT_EQ(value(e, "corral:requests_total", {{"model", "stories-ctx:latest"}, {"status", "200"}}), ok + 1);
  EXPECT_EQ(value(e, "corral:e2e_request_latency_seconds_count", m), ok + 1);

  // A client that hangs up mid-stream.
  int chunks = 0;
  http_request("POST", s->url("/api/generate"),
               R"({"model":"stories-ctx","prompt":"Once upon a time","options":{"num_predict":-1,"num_ctx":200000}})",
               [&](const std::string&) { return ++chunks < 3; });
  double cancelled = 0;
  for (int i = 0; i < 200 && cancelled < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    cancelled = scrape(*s).value("corral:request_cancellations_total", m).value_or(0);
  }
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(value(scrape(*s), "corral:requests_total", {{"model", "stories-ctx:latest"}, {"status", "499"}}), 1);
  EXPECT_NE(s->log().find("status=503"), std::string::npos);
  EXPECT_NE(s->log().find("status=499"), std::string::npos);
}

}  // namespace
}  // namespace corral::testing
