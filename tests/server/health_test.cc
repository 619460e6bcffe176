// GET /health on the real server: 200 {"status":"ok"} when ready; with CORRAL_PRELOAD, 503 until
// the named models are loaded (and for good when one cannot be), then 200 with the model loaded
// in /api/ps; 503 "draining" once shutdown has begun; never behind an API key.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

json body_of(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  return j;
}

TEST(Health, OkWhenReadyAndNeedsNoApiKey) {
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_API_KEYS", "sk-alpha"}});
  ASSERT_TRUE(s);
  HttpResponse r = http_get(s->url("/health"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json; charset=utf-8");
  EXPECT_EQ(body_of(r), json({{"status", "ok"}}));
  // The key still guards everything else.
  EXPECT_EQ(http_get(s->url("/api/tags")).status, 401);
}

TEST(Health, PreloadTurnsReadyOnceTheModelIsLoaded) {
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_PRELOAD", " tiny , stories-ctx"}});
  ASSERT_TRUE(s);
  HttpResponse r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    r = http_get(s->url("/health"));
    if (r.status != 503 || std::chrono::steady_clock::now() > deadline) break;
    // While loading: 503 naming what is still loading.
    EXPECT_EQ(body_of(r)["status"], "loading model") << r.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(r.status, 200) << r.body;
  const json ps = body_of(http_get(s->url("/api/ps")));
  std::set<std::string> loaded;
  for (const auto& m : ps["models"]) loaded.insert(m["name"].get<std::string>());
  EXPECT_EQ(loaded, (std::set<std::string>{"tiny:latest", "stories-ctx:latest"})) << ps.dump();
  EXPECT_NE(s->log().find("preloading tiny:latest"), std::string::npos);
}

TEST(Health, PreloadOfAMissingModelStaysUnavailable) {
  auto s = ServerProcess::start(shared_test_store(), {{"CORRAL_PRELOAD", "no-such-model"}});
  ASSERT_TRUE(s);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  HttpResponse r = http_get(s->url("/health"));
  EXPECT_EQ(r.status, 503);
  const json j = body_of(r);
  EXPECT_EQ(j["status"], "error");
  EXPECT_NE(j["error"].get<std::string>().find("no-such-model"), std::string::npos) << r.body;
  // The server itself still answers.
  EXPECT_EQ(http_get(s->url("/api/version")).status, 200);
}

TEST(Health, DrainingAnswers503WhileInFlightRequestsFinish) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}});
  ASSERT_TRUE(s);
  // Three long generations on one slot: still running and queued when SIGTERM arrives, so the
  // drain (which lets them finish) lasts a while. The random model rarely ends early.
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < 3; ++i)
    fs.push_back(std::async(std::launch::async, [&, i] {
      return http_request("POST", s->url("/api/generate"),
                          json{{"model", "random"},
                               {"prompt", "Once " + std::to_string(i)},
                               {"stream", false},
                               {"options", {{"num_predict", 400}}}}
                              .dump());
    }));
  const auto running_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (http_get(s->url("/metrics"))
                 .body.find("vllm:num_requests_running{model_name=\"random:latest\",engine=\"0\"} 1") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < running_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(kill(s->pid(), SIGTERM), 0);
  HttpResponse r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do { r = http_get(s->url("/health")); } while (r.status == 200 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(body_of(r), json({{"status", "draining"}}));
  for (auto& f : fs) f.get();
  s->stop();
}

}  // namespace
}  // namespace corral::testing
