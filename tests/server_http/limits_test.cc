// Hostile and unusual input: size limits, malformed requests, chunked request bodies,
// Expect: 100-continue, idle timeouts.
#include <gtest/gtest.h>

#include "test_client.h"

namespace corral::http::testing {
namespace {

class LimitsTest : public ::testing::Test {
 protected:
  static ServerOptions options() {
    ServerOptions o = ServerHarness::test_options();
    o.max_body_bytes = 1000;
    o.max_header_bytes = 2048;
    return o;
  }
  void SetUp() override {
    harness_.server().route("POST", "/echo", [](Request req, std::shared_ptr<ResponseWriter> w) {
      w->respond(200, "text/plain", std::move(req.body));
    });
    ASSERT_TRUE(harness_.start());
  }
  ServerHarness harness_{options()};
};

TEST_F(LimitsTest, OversizedContentLengthIs413) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("POST", "/echo", std::string(1001, 'x'))));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"error":"request body too large"})");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(LimitsTest, BodyAtTheLimitIsAccepted) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("POST", "/echo", std::string(1000, 'x'))));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 1000u);
}

TEST_F(LimitsTest, OversizedChunkedBodyIs413) {
  TestClient c(harness_.port());
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) req += "190\r\n" + std::string(400, 'y') + "\r\n";  // 1200 bytes
  req += "0\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(LimitsTest, ChunkedRequestBody) {
  TestClient c(harness_.port());
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n"));
  std::this_thread::sleep_for(20ms);  // the body arrives in pieces
  ASSERT_TRUE(c.send("6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
}

TEST_F(LimitsTest, OversizedHeaderIs431) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("GET", "/echo", "", "X-Big: " + std::string(4000, 'h') + "\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST_F(LimitsTest, MalformedRequestsAre400AndClose) {
  const char* bad[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nNo-Colon-Here\r\n\r\n",
      "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "G\x01T / HTTP/1.1\r\n\r\n",
      // Ambiguous body lengths (request smuggling shapes).
      "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxxxxx",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxxxxx",
  };
  for (const char* req : bad) {
    TestClient c(harness_.port());
    ASSERT_TRUE(c.send(req));
    auto r = c.read_response();
    ASSERT_TRUE(r) << req;
    EXPECT_EQ(r->status, 400) << req;
    EXPECT_NE(r->body.find("\"error\""), std::string::npos);
    EXPECT_TRUE(c.wait_closed()) << req;
  }
}

TEST_F(LimitsTest, GarbageThenHalfCloseStillGetsTheError) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send("NOT HTTP AT ALL\r\n\r\n"));
  c.half_close();  // like `printf ... | nc -N`
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(LimitsTest, RandomBytesNeverCrashTheServer) {
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (int i = 0; i < 50; ++i) {
    TestClient c(harness_.port());
    std::string junk;
    size_t n = next() % 3000;
    for (size_t j = 0; j < n; ++j) junk.push_back(static_cast<char>(next() >> 24));
    if (i % 2) junk = "POST /echo HTTP/1.1\r\n" + junk;  // get past the request line sometimes
    c.send(junk);
    c.wait_closed(200ms);
  }
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("POST", "/echo", "alive")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "alive");
}

TEST_F(LimitsTest, ExpectContinueGetsTheGoAhead) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  // The client waits for the interim response before it sends the body.
  EXPECT_EQ(c.read_raw("\r\n\r\n", 2s), std::optional<std::string>("HTTP/1.1 100 Continue\r\n\r\n"));
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(LimitsTest, ExpectContinueWithOversizedBodyGets413Instead) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
  auto r = c.read_response();  // without sending the body
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(Limits, IdleConnectionsTimeOut) {
  ServerOptions o = ServerHarness::test_options();
  o.idle_timeout_s = 1;
  ServerHarness h(o);
  h.server().route("GET", "/x",
                   [](const Request&, std::shared_ptr<ResponseWriter> w) { w->respond(200, "text/plain", "x"); });
  ASSERT_TRUE(h.start());
  TestClient idle(h.port());
  TestClient used(h.port());
  ASSERT_TRUE(used.send(make_request("GET", "/x")));
  ASSERT_TRUE(used.read_response());
  TestClient partial(h.port());
  ASSERT_TRUE(partial.send("GET /x HTTP/1.1\r\nHost:"));  // slowloris: never finishes
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.wait_closed(3s));
  EXPECT_TRUE(used.wait_closed(3s));
  EXPECT_TRUE(partial.wait_closed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 800ms);
}

TEST(Limits, PendingRequestIsNotAnIdleConnection) {
  ServerOptions o = ServerHarness::test_options();
  o.idle_timeout_s = 1;
  ServerHarness h(o);
  std::shared_ptr<ResponseWriter> pending;
  std::mutex mu;
  h.server().route("GET", "/wait", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    std::lock_guard lock(mu);
    pending = w;
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/wait")));
  std::this_thread::sleep_for(1500ms);  // longer than idle_timeout_s while "queued"
  {
    std::lock_guard lock(mu);
    ASSERT_TRUE(pending);
    EXPECT_FALSE(pending->client_gone());
    pending->respond(200, "text/plain", "finally");
    pending.reset();
  }
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "finally");
}

}  // namespace
}  // namespace corral::http::testing
