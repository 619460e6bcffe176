// start_sized(): bodies whose length is known up front (files, byte ranges) streamed without
// chunk framing and without buffering.
#include <gtest/gtest.h>

#include <future>
#include <string>

#include "test_client.h"

namespace corral::http::testing {
namespace {

TEST(Sized, HeadGoesOutBeforeTheBodyAndBytesStreamUnframed) {
  std::promise<std::shared_ptr<ResponseWriter>> handed;
  ServerHarness h;
  h.server().route("GET", "/blob", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->start_sized(206, "application/octet-stream", 10, {{"Content-Range", "bytes 0-9/20"}});
    w->write("01234");
    handed.set_value(std::move(w));  // the rest comes later, from the test body
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/blob")));
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 206);
  EXPECT_EQ(head->header("Content-Length"), "10");
  EXPECT_FALSE(head->has_header("Transfer-Encoding"));
  EXPECT_EQ(head->header("Content-Range"), "bytes 0-9/20");
  auto held = handed.get_future().get();
  held->write("56789");
  held->finish();
  ASSERT_TRUE(c.read_body(&*head, false));
  EXPECT_EQ(head->body, "0123456789");
  // The connection stays usable for the next request.
  ASSERT_TRUE(c.send(make_request("GET", "/missing")));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 404);
}

TEST(Sized, ExtraBytesAreDroppedAndAShortBodyClosesTheConnection) {
  ServerHarness h;
  h.server().route("GET", "/long", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->start_sized(200, "text/plain", 3);
    w->write("abcdef");
    w->finish();
  });
  h.server().route("GET", "/short", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->start_sized(200, "text/plain", 8);
    w->write("abc");
    w->finish();
  });
  ASSERT_TRUE(h.start());
  {
    TestClient c(h.port());
    ASSERT_TRUE(c.send(make_request("GET", "/long")));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "abc");
  }
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/short")));
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "8");
  EXPECT_TRUE(c.wait_closed());
}

TEST(Sized, HeadRequestGetsTheLengthWithoutTheBody) {
  ServerHarness h;
  h.server().route("GET", "/blob", [](const Request& req, std::shared_ptr<ResponseWriter> w) {
    w->start_sized(200, "application/octet-stream", 1234);
    if (req.method != "HEAD") w->write(std::string(1234, 'x'));
    w->finish();
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("HEAD", "/blob")));
  auto r = c.read_response(/*no_body=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), "1234");
  EXPECT_TRUE(r->body.empty());
  // Keep-alive survives a HEAD.
  ASSERT_TRUE(c.send(make_request("GET", "/blob")));
  auto g = c.read_response();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->body.size(), 1234u);
}

}  // namespace
}  // namespace corral::http::testing
