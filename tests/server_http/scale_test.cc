// Many connections on two io threads: pending requests answered later (Ollama's queue holds
// 512) and idle keep-alive connections.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <vector>

#include "test_client.h"

namespace corral::http::testing {
namespace {

TEST(Scale, SixHundredPendingRequestsAreAllAnsweredLater) {
  constexpr int kClients = 600;
  ASSERT_TRUE(ensure_fd_limit(2 * kClients + 100)) << "needs ~1300 file descriptors";
  ServerHarness h;
  std::mutex mu;
  std::vector<std::shared_ptr<ResponseWriter>> pending;
  h.server().route("POST", "/api/generate", [&](Request req, std::shared_ptr<ResponseWriter> w) {
    // Remember the request in the writer's response; answer nothing yet (no thread held).
    w->add_header("X-Echo", req.body);
    std::lock_guard lock(mu);
    pending.push_back(std::move(w));
  });
  ASSERT_TRUE(h.start());

  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(h.port()));
    ASSERT_TRUE(clients.back()->ok()) << i;
    ASSERT_TRUE(clients.back()->send(make_request("POST", "/api/generate", std::to_string(i))));
  }
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::lock_guard lock(mu);
    if (pending.size() == kClients) break;
  }
  std::vector<std::shared_ptr<ResponseWriter>> writers;
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(pending.size(), static_cast<size_t>(kClients));
    writers.swap(pending);
  }
  EXPECT_EQ(h.server().connection_count(), static_cast<size_t>(kClients));
  // Answer from another thread, as a scheduler would.
  std::thread answerer([&] {
    for (auto& w : writers) {
      EXPECT_FALSE(w->client_gone());
      w->start(200, "application/x-ndjson", {}, true);
      w->write("{\"done\":true}\n");
      w->finish();
    }
    writers.clear();
  });
  for (int i = 0; i < kClients; ++i) {
    auto r = clients[i]->read_response(false, 20s);
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Echo"), std::to_string(i));
    EXPECT_EQ(r->body, "{\"done\":true}\n");
  }
  answerer.join();
}

TEST(Scale, ThousandIdleKeepAliveConnections) {
  constexpr int kClients = 1000;
  ASSERT_TRUE(ensure_fd_limit(2 * kClients + 100)) << "needs ~2100 file descriptors";
  ServerHarness h;
  h.server().route("GET", "/api/version", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->respond(200, "application/json", R"({"version":"0.1.0"})");
  });
  ASSERT_TRUE(h.start());
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(h.port()));
    ASSERT_TRUE(clients.back()->ok()) << i;
    ASSERT_TRUE(clients.back()->send(make_request("GET", "/api/version")));
    ASSERT_TRUE(clients.back()->read_response()) << i;
  }
  EXPECT_EQ(h.server().connection_count(), static_cast<size_t>(kClients));
  // All idle now; each is still usable.
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(clients[i]->send(make_request("GET", "/api/version")));
  for (int i = 0; i < kClients; ++i) {
    auto r = clients[i]->read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  clients.clear();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (h.server().connection_count() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(h.server().connection_count(), 0u);
}

TEST(Scale, ConnectionsOverTheLimitAreRefused) {
  ServerOptions o = ServerHarness::test_options();
  o.max_connections = 3;
  ServerHarness h(o);
  h.server().route("GET", "/x",
                   [](const Request&, std::shared_ptr<ResponseWriter> w) { w->respond(200, "text/plain", "x"); });
  ASSERT_TRUE(h.start());
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<TestClient>(h.port()));
    ASSERT_TRUE(clients.back()->send(make_request("GET", "/x")));
    ASSERT_TRUE(clients.back()->read_response());
  }
  TestClient extra(h.port());
  EXPECT_TRUE(extra.wait_closed(2s));
  clients.pop_back();
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (h.server().connection_count() >= 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  TestClient again(h.port());
  ASSERT_TRUE(again.send(make_request("GET", "/x")));
  EXPECT_TRUE(again.read_response());
}

}  // namespace
}  // namespace corral::http::testing
