// Request/response basics over real sockets: methods, routing, keep-alive, pipelining,
// middleware, handler failures.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "test_client.h"

namespace corral::http::testing {
namespace {

void add_echo_routes(Server& s) {
  s.route("GET", "/hello", [](const Request& req, std::shared_ptr<ResponseWriter> w) {
    w->respond(200, "text/plain", "hello " + std::string(req.query_value("name").value_or("world")));
  });
  s.route("POST", "/echo", [](Request req, std::shared_ptr<ResponseWriter> w) {
    w->respond(200, "application/octet-stream", std::move(req.body),
               {{"X-Method", req.method}, {"X-Content-Type", req.headers.value_or("content-type", "")}});
  });
  s.route("GET", "/api/blobs/:digest", [](const Request& req, std::shared_ptr<ResponseWriter> w) {
    w->respond(200, "text/plain", std::string(req.param("digest")));
  });
  s.route("GET", "/api/blobs/list",
          [](const Request&, std::shared_ptr<ResponseWriter> w) { w->respond(200, "text/plain", "literal route"); });
  s.route("GET", "/files/*rest", [](const Request& req, std::shared_ptr<ResponseWriter> w) {
    w->respond(200, "text/plain", std::string(req.param("rest")));
  });
}

class BasicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_echo_routes(harness_.server());
    ASSERT_TRUE(harness_.start());
  }
  ServerHarness harness_;
};

TEST_F(BasicTest, GetWithQuery) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send(make_request("GET", "/hello?name=corral%20x")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello corral x");
  EXPECT_EQ(r->header("Content-Type"), "text/plain");
  EXPECT_EQ(r->header("Content-Length"), "14");
  EXPECT_TRUE(r->has_header("Date"));
}

TEST_F(BasicTest, PostEchoesBodyAndHeaders) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("POST", "/echo", "{\"a\":1}", "content-type: application/json\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"a\":1}");
  EXPECT_EQ(r->header("X-Method"), "POST");
  EXPECT_EQ(r->header("X-Content-Type"), "application/json");
}

TEST_F(BasicTest, HeadUsesGetRouteWithoutBody) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("HEAD", "/hello")));
  auto r = c.read_response(/*no_body=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), "11");  // length of "hello world"
  // No body bytes follow: the next response on the connection parses cleanly.
  ASSERT_TRUE(c.send(make_request("GET", "/hello")));
  auto r2 = c.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "hello world");
}

TEST(BasicServer, HeadOfAStreamingRouteSendsHeadersOnly) {
  ServerHarness h;
  h.server().route("GET", "/stream", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->start(200, "application/x-ndjson", {}, /*chunked=*/true);
    EXPECT_TRUE(w->write("{}\n"));  // accepted, never sent
    w->finish();
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("HEAD", "/stream") + make_request("GET", "/stream")));
  auto head = c.read_response(/*no_body=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  auto get = c.read_response();  // parses cleanly only if HEAD sent no body bytes
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "{}\n");
}

TEST_F(BasicTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestClient c(harness_.port());
  for (int i = 0; i < 20; ++i) {
    std::string body = "request " + std::to_string(i);
    ASSERT_TRUE(c.send(make_request("POST", "/echo", body)));
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, body);
    EXPECT_FALSE(r->has_header("Connection"));
  }
  EXPECT_EQ(harness_.server().connection_count(), 1u);
}

TEST_F(BasicTest, PipelinedRequestsAreAnsweredInOrder) {
  TestClient c(harness_.port());
  std::string all;
  for (int i = 0; i < 5; ++i) all += make_request("POST", "/echo", "p" + std::to_string(i));
  ASSERT_TRUE(c.send(all));
  for (int i = 0; i < 5; ++i) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "p" + std::to_string(i));
  }
}

TEST_F(BasicTest, ConnectionCloseIsHonoured) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("GET", "/hello", "", "Connection: close\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(BasicTest, Http10ClosesUnlessKeepAlive) {
  {
    TestClient c(harness_.port());
    ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "hello world");
    EXPECT_TRUE(c.wait_closed());
  }
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Connection"), "keep-alive");
  ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(c.read_response());
}

TEST_F(BasicTest, RouteParamsAndLiteralPrecedence) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/blobs/sha256:abc%2F123")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "sha256:abc/123");  // decoded, and the encoded '/' stayed in the segment
  ASSERT_TRUE(c.send(make_request("GET", "/api/blobs/list")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "literal route");
  ASSERT_TRUE(c.send(make_request("GET", "/files/a/b/c.txt")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "a/b/c.txt");
}

TEST_F(BasicTest, UnknownPathIs404AndWrongMethodIs405) {
  TestClient c(harness_.port());
  ASSERT_TRUE(c.send(make_request("GET", "/nope")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error":"not found"})");
  EXPECT_EQ(r->header("Content-Type"), "application/json; charset=utf-8");
  ASSERT_TRUE(c.send(make_request("DELETE", "/hello")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("Allow"), "GET");
  EXPECT_EQ(r->body, R"({"error":"method not allowed"})");
  // A capture never matches an empty segment.
  ASSERT_TRUE(c.send(make_request("GET", "/api/blobs/")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST(BasicServer, CustomNotFoundAndMiddleware) {
  ServerHarness h;
  h.server().route("GET", "/x",
                   [](const Request&, std::shared_ptr<ResponseWriter> w) { w->respond(200, "text/plain", "x"); });
  h.server().set_not_found(
      [](const Request& req, std::shared_ptr<ResponseWriter> w) { w->respond_error(404, "no route for " + req.path); });
  h.server().set_middleware([](const Request& req, const std::shared_ptr<ResponseWriter>& w) {
    w->add_header("Access-Control-Allow-Origin", "*");
    if (req.method == "OPTIONS") {
      w->respond(204, "", "");
      return true;
    }
    return false;
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/x")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Access-Control-Allow-Origin"), "*");
  ASSERT_TRUE(c.send(make_request("OPTIONS", "/x")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_FALSE(r->has_header("Content-Length"));
  ASSERT_TRUE(c.send(make_request("GET", "/missing")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error":"no route for /missing"})");
}

TEST(BasicServer, HandlerExceptionIs500AndConnectionSurvives) {
  ServerHarness h;
  h.server().route("GET", "/throw",
                   [](const Request&, std::shared_ptr<ResponseWriter>) { throw std::runtime_error("boom"); });
  h.server().route("GET", "/ok",
                   [](const Request&, std::shared_ptr<ResponseWriter> w) { w->respond(200, "text/plain", "ok"); });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/throw")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"error":"internal server error"})");
  ASSERT_TRUE(c.send(make_request("GET", "/ok")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
}

TEST(BasicServer, DroppedWriterGets500AndClose) {
  ServerHarness h;
  h.server().route("GET", "/forget", [](const Request&, std::shared_ptr<ResponseWriter>) {});
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/forget")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST(BasicServer, DroppedStreamingWriterClosesWithoutLastChunk) {
  ServerHarness h;
  h.server().route("GET", "/half", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->start(200, "application/x-ndjson", {}, /*chunked=*/true);
    w->write("{\"n\":1}\n");
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/half")));
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(c.read_chunk(), std::optional<std::string>("{\"n\":1}\n"));
  EXPECT_FALSE(c.read_chunk());  // closed, not a clean last chunk
  EXPECT_TRUE(c.wait_closed());
}

TEST(BasicServer, ManagedAndUnsafeHeadersAreSanitized) {
  ServerHarness h;
  h.server().route("GET", "/h", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->respond(200, "text/plain", "abc",
               {{"Content-Length", "999"}, {"X-Split", "a\r\nInjected: yes"}, {"Bad Name", "v"}});
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/h")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Content-Length"), "3");
  EXPECT_EQ(r->body, "abc");
  EXPECT_FALSE(r->has_header("Injected"));
  EXPECT_FALSE(r->has_header("Bad Name"));
  EXPECT_EQ(r->header("X-Split"), "a  Injected: yes");
}

}  // namespace
}  // namespace corral::http::testing
