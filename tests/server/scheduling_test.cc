// The parallel-inference guide's steps as tests against the real server: warm-up, concurrent
// requests, OLLAMA_NUM_PARALLEL=1 vs 4, the OLLAMA_MAX_QUEUE bound, client disconnects, seeded
// determinism under load, several models, clean shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Timed {
  HttpResponse r;
  Clock::time_point first_byte, end;
};

Timed timed_post(const std::string& url, const std::string& body) {
  Timed t;
  bool first = true;
  t.r = http_request("POST", url, body, [&](const std::string&) {
    if (first) t.first_byte = Clock::now(), first = false;
    return true;
  });
  t.end = Clock::now();
  if (first) t.first_byte = t.end;
  return t;
}

bool stream_done(const std::string& body) {
  std::istringstream in(body);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return !last.empty() && json::parse(last).value("done", false);
}

json ps_model(ServerProcess& s, const std::string& name) {
  auto ps = json::parse(http_get(s.url("/api/ps")).body);
  for (const auto& m : ps["models"])
    if (m["name"] == name) return m;
  return nullptr;
}

TEST(Scheduling, WarmUpThenEightConcurrentRequestsAllComplete) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "4"}});
  ASSERT_TRUE(s);
  auto warm = http_post(s->url("/api/generate"),
                        R"({"model":"tiny","prompt":"Hi","stream":false,"options":{"num_predict":4}})");
  ASSERT_EQ(warm.status, 200);
  EXPECT_EQ(json::parse(warm.body)["done"], true);
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < 8; ++i) {
    const bool stream = i % 2 == 0;
    fs.push_back(std::async(std::launch::async, [&, i, stream] {
      return http_post(s->url("/api/generate"), json{{"model", "tiny"},
                                                     {"prompt", "Once upon a time " + std::to_string(i)},
                                                     {"stream", stream},
                                                     {"options", {{"num_predict", 40}}}}
                                                    .dump());
    }));
  }
  for (int i = 0; i < 8; ++i) {
    HttpResponse r = fs[i].get();
    ASSERT_EQ(r.status, 200) << r.body;
    if (i % 2 == 0) EXPECT_TRUE(stream_done(r.body));
    else EXPECT_EQ(json::parse(r.body)["done"], true);
  }
}

// Requests' generation intervals: with one slot they never overlap, with four they do.
int max_overlap(const std::vector<Timed>& ts) {
  int best = 0;
  for (const auto& a : ts) {
    int n = 0;
    const auto mid = a.first_byte + (a.end - a.first_byte) / 2;
    for (const auto& b : ts) n += b.first_byte <= mid && mid <= b.end;
    best = std::max(best, n);
  }
  return best;
}

std::vector<Timed> burst(ServerProcess& s, int n) {
  std::vector<std::future<Timed>> fs;
  for (int i = 0; i < n; ++i)
    fs.push_back(std::async(std::launch::async, [&s, i] {
      return timed_post(s.url("/api/generate"), json{{"model", "stories-ctx"},
                                                     {"prompt", "Once upon a time " + std::to_string(i)},
                                                     {"options", {{"num_predict", 300}, {"temperature", 0}}}}
                                                    .dump());
    }));
  std::vector<Timed> out;
  for (auto& f : fs) out.push_back(f.get());
  return out;
}

TEST(Scheduling, NumParallelOneServesOneAtATimeFourOverlap) {
  {
    auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}});
    ASSERT_TRUE(s);
    auto ts = burst(*s, 4);
    for (const auto& t : ts) ASSERT_EQ(t.r.status, 200);
    EXPECT_EQ(max_overlap(ts), 1);
    EXPECT_EQ(ps_model(*s, "stories-ctx:latest")["slots_total"], 1);
  }
  {
    auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "4"}});
    ASSERT_TRUE(s);
    auto ts = burst(*s, 4);
    for (const auto& t : ts) ASSERT_EQ(t.r.status, 200);
    EXPECT_GE(max_overlap(ts), 2);
  }
}

TEST(Scheduling, MaxQueueTwoWithTwentyConcurrentRequests) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}, {"OLLAMA_MAX_QUEUE", "2"}});
  ASSERT_TRUE(s);
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < 20; ++i)
    fs.push_back(std::async(std::launch::async, [&, i] {
      return http_request("POST", s->url("/api/generate"),
                          json{{"model", "stories-ctx"},
                               {"prompt", "Once " + std::to_string(i)},
                               {"stream", false},
                               {"options", {{"num_predict", 100}}}}
                              .dump(),
                          nullptr, 60);
    }));
  int ok = 0, busy = 0;
  for (auto& f : fs) {
    HttpResponse r = f.get();
    ASSERT_TRUE(r.error.empty()) << r.error;  // none hangs or breaks
    if (r.status == 200) {
      ++ok;
      EXPECT_EQ(json::parse(r.body)["done"], true);
    } else {
      ++busy;
      EXPECT_EQ(r.status, 503);
      EXPECT_EQ(r.body, R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
      EXPECT_FALSE(r.headers["retry-after"].empty());
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(ok + busy, 20);
  // Still serving.
  EXPECT_EQ(http_post(s->url("/api/generate"),
                      R"({"model":"stories-ctx","prompt":"x","stream":false,"options":{"num_predict":3}})")
                .status,
            200);
}

TEST(Scheduling, ClientDisconnectMidStreamFreesTheSlot) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}});
  ASSERT_TRUE(s);
  // A request that would run for a long time; the client reads a few chunks and hangs up.
  int chunks = 0;
  auto aborted = http_request(
      "POST", s->url("/api/generate"),
      R"({"model":"stories-ctx","prompt":"Once upon a time","options":{"num_predict":-1,"num_ctx":200000}})",
      [&](const std::string&) { return ++chunks < 5; });
  EXPECT_FALSE(aborted.error.empty());
  const auto t0 = Clock::now();
  auto next = http_post(s->url("/api/generate"),
                        R"({"model":"stories-ctx","prompt":"x","stream":false,"options":{"num_predict":5}})");
  EXPECT_EQ(next.status, 200);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5)) << "the abandoned request kept the only slot";
  EXPECT_EQ(ps_model(*s, "stories-ctx:latest")["slots_in_use"], 0);
}

TEST(Scheduling, SameSeedSameTextAloneOrAmongSevenOthers) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "8"}});
  ASSERT_TRUE(s);
  const std::string req =
      R"({"model":"tiny","prompt":"The little dog","stream":false,"options":{"seed":1234,"temperature":0.9,"num_predict":50}})";
  auto alone = http_post(s->url("/api/generate"), req);
  ASSERT_EQ(alone.status, 200);
  const std::string text = json::parse(alone.body)["response"];
  std::vector<std::future<HttpResponse>> others;
  for (int i = 0; i < 7; ++i)
    others.push_back(std::async(std::launch::async, [&, i] {
      return http_post(s->url("/api/generate"), json{{"model", "tiny"},
                                                     {"prompt", "A bird " + std::string(i * 3, 'x')},
                                                     {"options", {{"seed", i}, {"num_predict", 60}}}}
                                                    .dump());
    }));
  auto together = http_post(s->url("/api/generate"), req);
  for (auto& f : others) EXPECT_EQ(f.get().status, 200);
  ASSERT_EQ(together.status, 200);
  EXPECT_EQ(json::parse(together.body)["response"], text);
}

TEST(Scheduling, TwoModelsLoadedThirdEvictsLeastRecentlyUsed) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_MAX_LOADED_MODELS", "2"}});
  ASSERT_TRUE(s);
  auto gen = [&](const char* model) {
    return http_post(
               s->url("/api/generate"),
               json{{"model", model}, {"prompt", "Hi"}, {"stream", false}, {"options", {{"num_predict", 2}}}}.dump())
        .status;
  };
  ASSERT_EQ(gen("stories"), 200);
  ASSERT_EQ(gen("tiny"), 200);
  EXPECT_FALSE(ps_model(*s, "stories:latest").is_null());
  EXPECT_FALSE(ps_model(*s, "tiny:latest").is_null());
  ASSERT_EQ(gen("tiny-q8"), 200);
  EXPECT_TRUE(ps_model(*s, "stories:latest").is_null()) << "the least recently used idle model is evicted";
  EXPECT_FALSE(ps_model(*s, "tiny:latest").is_null());
  EXPECT_FALSE(ps_model(*s, "tiny-q8:latest").is_null());
  auto unload = http_post(s->url("/api/generate"), R"({"model":"tiny","keep_alive":0})");
  EXPECT_EQ(json::parse(unload.body)["done_reason"], "unload");
  EXPECT_TRUE(ps_model(*s, "tiny:latest").is_null());
}

TEST(Scheduling, SigtermShutsDownCleanlyDuringAStream) {
  auto s = ServerProcess::start(shared_test_store());
  ASSERT_TRUE(s);
  std::atomic<bool> streaming{false};
  auto f = std::async(std::launch::async, [&] {
    return http_request("POST", s->url("/api/generate"),
                        R"({"model":"stories-ctx","prompt":"Once","options":{"num_predict":-1,"num_ctx":200000}})",
                        [&](const std::string&) {
                          streaming = true;
                          return true;
                        });
  });
  for (int i = 0; i < 500 && !streaming; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(streaming);
  const auto t0 = Clock::now();
  EXPECT_EQ(s->stop(), 0);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(15));
  HttpResponse r = f.get();
  EXPECT_EQ(r.status, 200);
}

}  // namespace
}  // namespace corral::testing
