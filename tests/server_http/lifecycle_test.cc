// listen/run/stop: port conflicts, graceful shutdown with streams in flight, the grace limit,
// and writers that outlive the server.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "test_client.h"

namespace corral::http::testing {
namespace {

using Clock = std::chrono::steady_clock;

TEST(Lifecycle, PortInUseIsAnError) {
  ServerHarness first;
  ASSERT_TRUE(first.start());
  ServerOptions o = ServerHarness::test_options();
  o.port = first.port();
  Server second(o);
  Status st = second.listen();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("in use"), std::string::npos) << st.message();
}

TEST(Lifecycle, BadHostIsAnError) {
  ServerOptions o = ServerHarness::test_options();
  o.host = "no-such-host.invalid";
  Server s(o);
  EXPECT_FALSE(s.listen().is_ok());
}

TEST(Lifecycle, StopWithIdleConnectionsReturnsPromptly) {
  ServerHarness h;
  h.server().route("GET", "/x",
                   [](const Request&, std::shared_ptr<ResponseWriter> w) { w->respond(200, "text/plain", "x"); });
  ASSERT_TRUE(h.start());
  TestClient a(h.port()), b(h.port());
  ASSERT_TRUE(a.send(make_request("GET", "/x")));
  ASSERT_TRUE(a.read_response());
  auto took = h.stop_and_join(5000ms);
  EXPECT_LT(took, 1000ms);  // idle connections do not wait for the grace period
  EXPECT_TRUE(a.wait_closed(1s));
  EXPECT_TRUE(b.wait_closed(1s));
  TestClient late(h.port());
  EXPECT_FALSE(late.ok() && late.send(make_request("GET", "/x")) && late.read_response(false, 500ms));
}

TEST(Lifecycle, StopLetsAnInFlightStreamFinish) {
  std::thread worker;
  ServerHarness h;
  std::promise<void> streaming;
  h.server().route("POST", "/api/generate", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    worker = std::thread([w, &streaming] {
      w->start(200, "application/x-ndjson", {}, true);
      w->write("{\"i\":0}\n");
      streaming.set_value();
      for (int i = 1; i < 5; ++i) {
        std::this_thread::sleep_for(50ms);
        w->write("{\"i\":" + std::to_string(i) + "}\n");
      }
      w->finish();
    });
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("POST", "/api/generate", "{}")));
  streaming.get_future().wait();
  auto stopped = std::async(std::launch::async, [&] { return h.stop_and_join(5000ms); });
  auto r = c.read_response(false, 5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->chunks.size(), 5u);  // all of it, cleanly terminated
  EXPECT_TRUE(c.wait_closed(3s));   // and then closed rather than kept alive
  EXPECT_LT(stopped.get(), 4000ms);
  worker.join();
}

TEST(Lifecycle, GraceExpiryClosesStreamsAndCancelsTheirWriters) {
  std::thread worker;
  ServerHarness h;
  std::atomic<bool> cancelled{false};
  std::promise<void> streaming;
  h.server().route("POST", "/api/generate", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->on_client_gone([&] { cancelled = true; });
    worker = std::thread([w, &streaming] {
      w->start(200, "application/x-ndjson", {}, true);
      w->write("{}\n");
      streaming.set_value();
      while (w->write("{}\n")) std::this_thread::sleep_for(10ms);  // never finishes on its own
    });
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("POST", "/api/generate", "{}")));
  streaming.get_future().wait();
  auto took = h.stop_and_join(300ms);
  EXPECT_GE(took, 250ms);  // the grace period was granted
  EXPECT_LT(took, 3000ms);
  EXPECT_TRUE(cancelled);
  worker.join();  // its write() turned false
  EXPECT_TRUE(c.wait_closed(2s));
}

TEST(Lifecycle, StopFromAnotherThreadBeforeRun) {
  ServerHarness h;
  ASSERT_TRUE(h.start());
  std::thread stopper([&] { h.server().stop(0ms); });
  stopper.join();
  EXPECT_LT(h.stop_and_join(0ms), 2000ms);
}

TEST(Lifecycle, WriterMayOutliveTheServer) {
  std::shared_ptr<ResponseWriter> kept;
  {
    ServerHarness h;
    std::promise<void> got;
    h.server().route("GET", "/keep", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
      kept = w;
      got.set_value();
    });
    ASSERT_TRUE(h.start());
    TestClient c(h.port());
    ASSERT_TRUE(c.send(make_request("GET", "/keep")));
    got.get_future().wait();
    h.stop_and_join(0ms);
  }
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->client_gone());
  kept->start(200, "text/plain", {}, true);
  EXPECT_FALSE(kept->write("x"));
  kept->finish();
  kept.reset();  // releases the last reference to the server's internals
}

TEST(Lifecycle, ServerDestroyedWithoutRun) {
  Server s(ServerHarness::test_options());
  ASSERT_TRUE(s.listen().is_ok());
  EXPECT_GT(s.port(), 0);
  TestClient c(s.port());  // accepted by the kernel backlog, never served
  EXPECT_TRUE(c.ok());
}

}  // namespace
}  // namespace corral::http::testing
