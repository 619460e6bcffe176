// Slowloris defences: the header deadline (ServerOptions::header_timeout_s) and the per-address
// connection cap (max_connections_per_ip). Test clients play two addresses, 127.0.0.1 and
// 127.0.0.2 (Linux routes all of 127/8 to loopback).
#include <gtest/gtest.h>

#include "test_client.h"

namespace corral::http::testing {
namespace {

ServerOptions limited(int per_ip, int header_timeout_s) {
  ServerOptions o = ServerHarness::test_options();
  o.max_connections_per_ip = per_ip;
  o.header_timeout_s = header_timeout_s;
  o.max_connections = 200;
  return o;
}

void add_ping(ServerHarness& h) {
  h.server().route("GET", "/ping",
                   [](const Request&, std::shared_ptr<ResponseWriter> w) { w->respond(200, "text/plain", "pong"); });
}

bool wait_for_count(ServerHarness& h, size_t at_most, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (h.server().connection_count() > at_most) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(ConnectionLimits, SlowlorisDoesNotLockOutOtherClients) {
  ASSERT_TRUE(ensure_fd_limit(600));
  ServerHarness h(limited(/*per_ip=*/40, /*header_timeout_s=*/2));
  add_ping(h);
  ASSERT_TRUE(h.start());
  // The attacker: more half-open connections than the whole server allows (200), each with a
  // header that never ends.
  std::vector<std::unique_ptr<TestClient>> slow;
  for (int i = 0; i < 250; ++i) {
    auto c = std::make_unique<TestClient>(h.port(), "127.0.0.2");
    ASSERT_TRUE(c->ok());
    c->send("GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    slow.push_back(std::move(c));
  }
  // Everyone else still gets in, at once, while the attacker holds its connections.
  const auto t0 = std::chrono::steady_clock::now();
  TestClient other(h.port());
  ASSERT_TRUE(other.send(make_request("GET", "/ping")));
  auto r = other.read_response(false, 2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
  EXPECT_LE(h.server().connection_count(), 45u);  // the attacker's 40, give or take a closing 503
  // Past its cap the attacker got 503s, not slots.
  int refused = 0;
  for (auto& c : slow) {
    auto resp = c->read_response(false, 20ms);
    if (resp && resp->status == 503) ++refused;
  }
  EXPECT_GE(refused, 200);
  // And the connections it held are closed by the header deadline.
  EXPECT_TRUE(wait_for_count(h, 1, 5s)) << h.server().connection_count() << " still open";
}

TEST(ConnectionLimits, OverThePerAddressCapIs503AndClosed) {
  ServerHarness h(limited(/*per_ip=*/2, /*header_timeout_s=*/10));
  add_ping(h);
  ASSERT_TRUE(h.start());
  TestClient a(h.port(), "127.0.0.2"), b(h.port(), "127.0.0.2");
  ASSERT_TRUE(a.send(make_request("GET", "/ping")));
  ASSERT_TRUE(a.read_response());
  ASSERT_TRUE(b.send(make_request("GET", "/ping")));
  ASSERT_TRUE(b.read_response());
  TestClient c(h.port(), "127.0.0.2");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_NE(r->body.find("too many connections from 127.0.0.2 (at most 2 per client address)"), std::string::npos)
      << r->body;
  EXPECT_TRUE(c.wait_closed());
  // A slot freed is a slot to reuse.
  a.close();
  ASSERT_TRUE(wait_for_count(h, 1, 2s));
  TestClient d(h.port(), "127.0.0.2");
  ASSERT_TRUE(d.send(make_request("GET", "/ping")));
  auto ok = d.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(ConnectionLimits, HeaderTrickledPastTheDeadlineIsClosed) {
  ServerHarness h(limited(/*per_ip=*/10, /*header_timeout_s=*/1));
  add_ping(h);
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  const std::string req = make_request("GET", "/ping");
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  // A byte every 150 ms keeps the connection busy but the header never completes in time.
  for (size_t i = 0; i < req.size() - 2 && !closed; ++i) {
    if (!c.send(req.substr(i, 1))) break;
    closed = c.wait_closed(150ms);
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(closed || c.wait_closed(2s));
  EXPECT_GE(took, 900ms);
  EXPECT_LE(took, 3s);
}

TEST(ConnectionLimits, KeepAliveIdleIsNotHeaderTime) {
  ServerOptions o = limited(/*per_ip=*/10, /*header_timeout_s=*/1);
  o.idle_timeout_s = 30;
  ServerHarness h(o);
  add_ping(h);
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/ping")));
  ASSERT_TRUE(c.read_response());
  // Idle between requests longer than the header deadline: still open (idle_timeout_s).
  EXPECT_FALSE(c.wait_closed(1500ms));
  ASSERT_TRUE(c.send(make_request("GET", "/ping")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ConnectionLimits, SilentNewConnectionGetsTheHeaderDeadline) {
  ServerHarness h(limited(/*per_ip=*/10, /*header_timeout_s=*/1));
  add_ping(h);
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 800ms);
}

}  // namespace
}  // namespace corral::http::testing
