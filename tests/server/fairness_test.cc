// Fairness, priority and deadlines against the real server (docs/fairness.md): a tenant's
// request is not stuck behind another tenant's queue, a better objective goes first, a deadline
// that cannot be met is a 503 with Retry-After (at once, or when it passes in the queue),
// preemption keeps the preempted request's output exact, bad header values are a 400, and the
// queue placement headers and /api/ps fields are there.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "server/qos_requests.h"
#include "server/raw_http.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

using qos_requests::Finished;
using qos_requests::post;
using qos_requests::ps_model;

// The requests of these tests all go to one model, "stories-ctx".
json generate(const std::string& prompt, int num_predict) {
  return qos_requests::generate("stories-ctx", prompt, num_predict);
}

template <typename Pred>
bool wait_for_ps(ServerProcess& s, Pred pred) {
  return qos_requests::wait_for_ps(s, "stories-ctx:latest", pred);
}

std::future<Finished> post_async(ServerProcess& s, json body, std::string headers) {
  return qos_requests::post_async(s, "/api/generate", std::move(body), std::move(headers));
}

// With one slot, tenant a queues twenty requests; tenant b's one request then arrives (after
// every one of a's is running, queued or done). Fair: b is served next, before a's queued ones.
// First come first served (CORRAL_FAIRNESS=fcfs): b is last. Returns how many of a's requests
// finished after b, and sets `queued` to how many of a's were queued when b was sent and
// `b_position` to where the server placed b (x-corral-queue-position: requests to go before
// it). a's requests are 400 tokens (~40 ms each here) so that few are admitted between the
// count and b's arrival even on a loaded machine.
int a_requests_after_b(const std::string& fairness, int* queued, int* b_position) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}, {"CORRAL_FAIRNESS", fairness}});
  EXPECT_TRUE(s);
  if (!s) return -1;
  EXPECT_EQ(post(s->port(), "/api/generate", generate("Hi", 2)).status, 200);  // loads the model
  constexpr int kA = 21;
  std::atomic<int> a_done{0};
  std::vector<std::future<Finished>> a;
  for (int i = 0; i < kA; ++i)
    a.push_back(std::async(std::launch::async, [&, i] {
      Finished f{post(s->port(), "/api/generate", generate("Once upon a time " + std::to_string(i), 400),
                      "x-llm-d-inference-fairness-id: a\r\n"),
                 {}};
      f.end = Clock::now();
      ++a_done;
      return f;
    }));
  // Done is read before /api/ps: a request finishing in between is then counted once at most.
  bool all_in = false;
  for (int i = 0; i < 6000 && !all_in; ++i) {
    const int done = a_done.load();
    const json m = ps_model(*s, "stories-ctx:latest");
    *queued = m["queued"].get<int>();
    all_in = m["slots_in_use"].get<int>() + *queued + done >= kA;
    if (!all_in) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(all_in);
  Finished b = post_async(*s, generate("The dog", 20), "x-llm-d-inference-fairness-id: b\r\n").get();
  EXPECT_EQ(b.r.status, 200) << b.r.body;
  *b_position = b.r.header("x-corral-queue-position").empty() ? -1 : std::stoi(b.r.header("x-corral-queue-position"));
  int after = 0;
  for (auto& f : a) {
    Finished r = f.get();
    EXPECT_EQ(r.r.status, 200) << r.r.body;
    after += r.end > b.end;
  }
  return after;
}

TEST(Fairness, OtherTenantIsServedBeforeTwentyQueuedRequestsOfOne) {
  int queued = 0, position = -1;
  const int after = a_requests_after_b("tenant", &queued, &position);
  ASSERT_GE(queued, 10) << "the queue drained before b was sent: the machine outran the test";
  // b goes next: the server placed it behind at most one of a's queued requests (round robin
  // between the two tenants), and all but the one or two of a's admitted while it was being
  // sent finish after it.
  EXPECT_LE(position, 1);
  EXPECT_GE(after, queued - 2);
  // First come first served: b is placed behind every one of a's queued requests and waits
  // for them. The last of them ends a few milliseconds before b, and the client thread that
  // records that end may be scheduled after b's (22 threads on 2 cores), so the placement is
  // the exact check and the end order allows that one.
  EXPECT_LE(a_requests_after_b("fcfs", &queued, &position), 1);
  EXPECT_GE(position, queued - 2);
  EXPECT_GE(queued, 10);
}

TEST(Fairness, BetterObjectiveIsAdmittedFirstAndPlacementHeadersSayWhere) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}});
  ASSERT_TRUE(s);
  ASSERT_EQ(post(s->port(), "/api/generate", generate("Hi", 2)).status, 200);
  std::vector<std::future<Finished>> low;
  for (int i = 0; i < 12; ++i)
    low.push_back(post_async(*s, generate("Once upon a time " + std::to_string(i), 60),
                             "x-llm-d-inference-objective: sheddable\r\n"));
  ASSERT_TRUE(wait_for_ps(*s, [](const json& m) { return m["queued"].get<int>() >= 8; }));
  Finished high = post_async(*s, generate("The dog", 20), "x-llm-d-inference-objective: critical\r\n").get();
  ASSERT_EQ(high.r.status, 200) << high.r.body;
  // Nothing queued went before it: it waited only for the running request's slot.
  EXPECT_EQ(high.r.header("x-corral-queue-position"), "0");
  EXPECT_FALSE(high.r.header("x-corral-queue-eta-ms").empty());
  int after = 0, max_position = 0;
  for (auto& f : low) {
    Finished r = f.get();
    ASSERT_EQ(r.r.status, 200) << r.r.body;
    after += r.end > high.end;
    max_position = std::max(max_position, std::stoi(r.r.header("x-corral-queue-position")));
  }
  EXPECT_GE(after, 7);
  EXPECT_GE(max_position, 7);  // the sheddable ones queued behind each other
  const std::string metrics = http_get(s->url("/metrics")).body;
  EXPECT_NE(metrics.find("corral:priority_requests_total{priority_class=\"critical\",outcome=\"ok\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("corral:tenant_requests_total{tenant=\"default\",outcome=\"ok\"}"), std::string::npos);
}

TEST(Fairness, DeadlineThatCannotBeMetIsRefusedAtOnceWithRetryAfter) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}});
  ASSERT_TRUE(s);
  // Two finished requests give the runner its measured rates.
  for (int i = 0; i < 2; ++i) ASSERT_EQ(post(s->port(), "/api/generate", generate("Hi", 40)).status, 200);
  EXPECT_GT(ps_model(*s, "stories-ctx:latest")["drain_per_second"].get<double>(), 0);
  std::vector<std::future<Finished>> busy;
  for (int i = 0; i < 4; ++i) busy.push_back(post_async(*s, generate("Once upon a time", 300), ""));
  ASSERT_TRUE(wait_for_ps(*s, [](const json& m) { return m["queued"].get<int>() >= 2; }));
  EXPECT_GT(ps_model(*s, "stories-ctx:latest")["queue_eta_ms"].get<int64_t>(), 0);
  const auto t0 = Clock::now();
  RawHttpResponse r = post(s->port(), "/api/generate", generate("The dog", 5), "x-llm-d-slo-ttft-ms: 1\r\n");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("exceeds the request's deadline of 1 ms"), std::string::npos) << r.body;
  ASSERT_FALSE(r.header("retry-after").empty());
  EXPECT_GE(std::stoi(r.header("retry-after")), 1);
  // Refused at once, not after waiting its turn.
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  // The request option does the same (OpenAI's API here: its error shape).
  json chat{{"model", "stories-ctx"}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"slo_ttft_ms", 1}};
  RawHttpResponse o = post(s->port(), "/v1/chat/completions", chat);
  EXPECT_EQ(o.status, 503) << o.body;
  EXPECT_FALSE(o.header("retry-after").empty());
  for (auto& f : busy) EXPECT_EQ(f.get().r.status, 200);
  // Nothing leaked: every slot is free again.
  EXPECT_TRUE(wait_for_ps(*s, [](const json& m) { return m["slots_in_use"] == 0 && m["queued"] == 0; }));
  EXPECT_NE(http_get(s->url("/metrics"))
                .body.find("corral:deadline_refusals_total{model=\"stories-ctx:latest\","
                           "when=\"predicted\"} 2"),
            std::string::npos);
}

TEST(Fairness, DeadlineThatPassesInTheQueueIsA503WithRetryAfter) {
  // A fresh server has measured nothing, so nothing is refused on arrival: the queued request
  // is dropped when its deadline passes.
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}});
  ASSERT_TRUE(s);
  // Ten requests of 400 tokens ahead, so that the queue outlasts the 50 ms deadline even where
  // stories260K decodes three of them in under 100 ms.
  constexpr int kBusy = 10;
  std::vector<std::future<Finished>> busy;
  for (int i = 0; i < kBusy; ++i) busy.push_back(post_async(*s, generate("Once upon a time", 400), ""));
  ASSERT_TRUE(wait_for_ps(*s, [](const json& m) { return m["slots_in_use"] == 1 && m["queued"] == kBusy - 1; }));
  RawHttpResponse r = post(s->port(), "/api/generate", generate("The dog", 5), "x-llm-d-slo-ttft-ms: 50\r\n");
  const auto answered = Clock::now();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("passed while it was queued"), std::string::npos) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  int still_running = 0;
  for (auto& f : busy) {
    Finished b = f.get();
    EXPECT_EQ(b.r.status, 200);
    still_running += b.end > answered;
  }
  // It was dropped while the queue ahead of it still ran, not answered when its turn came (then
  // none would still run). At least one: on a loaded machine the 503 can come a request later.
  EXPECT_GE(still_running, 1);
  EXPECT_TRUE(wait_for_ps(*s, [](const json& m) { return m["slots_in_use"] == 0 && m["queued"] == 0; }));
  EXPECT_NE(http_get(s->url("/metrics")).body.find("when=\"expired\"} 1"), std::string::npos);
}

TEST(Fairness, PreemptedRequestStillAnswersExactlyItsUninterruptedGreedyOutput) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}, {"CORRAL_PREEMPT", "1"}});
  ASSERT_TRUE(s);
  json low = generate("Once upon a time there was", 400);
  low["priority"] = 1;
  RawHttpResponse alone = post(s->port(), "/api/generate", low);
  ASSERT_EQ(alone.status, 200) << alone.body;
  const std::string expected = json::parse(alone.body)["response"];

  low["stream"] = true;
  std::atomic<int> chunks{0};
  auto streamed = std::async(std::launch::async, [&] {
    return http_request("POST", s->url("/api/generate"), low.dump(), [&](const std::string&) {
      ++chunks;
      return true;
    });
  });
  for (int i = 0; i < 2000 && chunks < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_GE(chunks.load(), 3);
  json high = generate("The dog", 10);
  high["priority"] = -1;
  RawHttpResponse h = post(s->port(), "/api/generate", high);
  EXPECT_EQ(h.status, 200) << h.body;
  HttpResponse r = streamed.get();
  ASSERT_EQ(r.status, 200);
  std::string text;
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) text += json::parse(line).value("response", "");
  EXPECT_EQ(text, expected);
  EXPECT_GE(ps_model(*s, "stories-ctx:latest")["preemptions"].get<int>(), 1);
  // The same count under corral's name and the model server protocol's.
  const std::string metrics = http_get(s->url("/metrics")).body;
  for (const char* name : {"corral:num_preemptions_total{", "vllm:num_preemptions_total{"}) {
    const size_t at = metrics.find(name);
    ASSERT_NE(at, std::string::npos) << name;
    const std::string line = metrics.substr(at, metrics.find('\n', at) - at);
    EXPECT_NE(line.substr(line.rfind(' ') + 1), "0") << line;
  }
}

TEST(Fairness, BadSchedulingHeadersAndFieldsAreA400NamingThem) {
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  struct Case {
    std::string headers;
    json extra;
    std::string names;
  };
  const std::vector<Case> cases = {
      {"x-llm-d-inference-fairness-id: two words\r\n", json::object(), "x-llm-d-inference-fairness-id"},
      {"x-llm-d-inference-fairness-id: " + std::string(200, 'a') + "\r\n", json::object(),
       "x-llm-d-inference-fairness-id"},
      {"x-llm-d-inference-objective: urgent\r\n", json::object(), "not a configured objective"},
      {"x-llm-d-slo-ttft-ms: soon\r\n", json::object(), "x-llm-d-slo-ttft-ms"},
      {"x-llm-d-slo-ttft-ms: 0\r\n", json::object(), "x-llm-d-slo-ttft-ms"},
      {"x-llm-d-slo-ttft-ms: 99999999999999999999\r\n", json::object(), "x-llm-d-slo-ttft-ms"},
      {"", json{{"priority", "high"}}, "priority"},
      {"", json{{"priority", 1e12}}, "priority"},
      {"", json{{"slo_ttft_ms", -5}}, "slo_ttft_ms"},
  };
  for (const Case& c : cases) {
    json body = generate("Hi", 2);
    body.update(c.extra);
    RawHttpResponse r = post(s->port(), "/api/generate", body, c.headers);
    EXPECT_EQ(r.status, 400) << c.headers << body.dump();
    EXPECT_NE(r.body.find(c.names), std::string::npos) << r.body;
    json openai{{"model", "stories-ctx"}, {"prompt", "Hi"}, {"max_tokens", 2}};
    openai.update(c.extra);
    RawHttpResponse o = post(s->port(), "/v1/completions", openai, c.headers);
    EXPECT_EQ(o.status, 400) << o.body;
  }
  // Nothing was loaded or queued by any of them.
  EXPECT_TRUE(json::parse(http_get(s->url("/api/ps")).body)["models"].empty());
}

}  // namespace
}  // namespace corral::testing
