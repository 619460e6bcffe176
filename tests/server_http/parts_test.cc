// The socket-free pieces: target parsing, routing, wire formatting, JSON/SSE helpers and the
// MemoryResponseWriter test double.
#include <gtest/gtest.h>

#include "server/http/memory_writer.h"
#include "server/http/request.h"
#include "server/http/response_writer.h"
#include "server/http/router.h"
#include "server/http/wire.h"

namespace corral::http {
namespace {

TEST(Target, SplitsPathAndQuery) {
  std::string raw, path;
  std::multimap<std::string, std::string> q;
  parse_target("/api/x%20y?name=a+b&flag&k=%2F&k=2", &raw, &path, &q);
  EXPECT_EQ(raw, "/api/x%20y");
  EXPECT_EQ(path, "/api/x y");
  EXPECT_EQ(q.count("k"), 2u);
  EXPECT_EQ(q.find("name")->second, "a b");
  EXPECT_EQ(q.find("flag")->second, "");
  EXPECT_EQ(q.find("k")->second, "/");
}

TEST(Target, AbsoluteFormAndOddInput) {
  std::string raw, path;
  std::multimap<std::string, std::string> q;
  parse_target("http://example.com:8080/api/tags?x=1", &raw, &path, &q);
  EXPECT_EQ(path, "/api/tags");
  EXPECT_EQ(q.find("x")->second, "1");
  q.clear();
  parse_target("http://example.com", &raw, &path, &q);
  EXPECT_EQ(path, "/");
  parse_target("/a?q=http://b/c", &raw, &path, &q);
  EXPECT_EQ(path, "/a");
  EXPECT_EQ(percent_decode("%zz%4", false), "%zz%4");  // invalid escapes are kept
  EXPECT_EQ(percent_decode("a+b%41", false), "a+bA");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
}

TEST(Headers, CaseInsensitiveLookup) {
  Headers h;
  h.add("Content-Type", "application/json");
  h.add("X-A", "1");
  h.add("x-a", "2");
  EXPECT_EQ(h.get("content-type"), std::optional<std::string_view>("application/json"));
  EXPECT_EQ(h.get_all("X-a").size(), 2u);
  EXPECT_FALSE(h.contains("missing"));
  EXPECT_EQ(h.value_or("missing", "d"), "d");
}

TEST(Router, PrecedenceParamsAndAllow) {
  Router<int> r;
  r.add("GET", "/api/blobs/:digest", 1);
  r.add("HEAD", "/api/blobs/:digest", 2);
  r.add("POST", "/api/blobs/:digest", 3);
  r.add("GET", "/api/blobs/latest", 4);
  r.add("GET", "/", 5);
  r.add("GET", "/v1/models/*model", 6);

  auto m = r.match("GET", "/api/blobs/sha256:1");
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(*m.handler, 1);
  EXPECT_EQ(m.params["digest"], "sha256:1");
  EXPECT_EQ(*r.match("GET", "/api/blobs/latest").handler, 4);
  EXPECT_EQ(*r.match("HEAD", "/api/blobs/x").handler, 2);
  EXPECT_EQ(*r.match("GET", "/").handler, 5);
  EXPECT_EQ(r.match("GET", "/v1/models/hf.co/org/m").params["model"], "hf.co/org/m");

  auto none = r.match("DELETE", "/api/blobs/x");
  EXPECT_FALSE(none.handler);
  EXPECT_TRUE(none.path_known);
  EXPECT_EQ(none.allow, "GET, HEAD, POST");
  EXPECT_FALSE(r.match("GET", "/api/blobs/x/extra").path_known);
  EXPECT_FALSE(r.match("GET", "relative").path_known);
}

TEST(Router, HeadFallsBackToGet) {
  Router<int> r;
  r.add("GET", "/api/tags", 7);
  auto m = r.match("HEAD", "/api/tags");
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(*m.handler, 7);
}

TEST(Wire, HeadFormatting) {
  wire::Head h;
  h.status = 404;
  h.content_type = "application/json";
  h.headers = {{"X-Ok", "v"}, {"Transfer-Encoding", "gzip"}, {"Bad:Name", "x"}, {"X-Nl", "a\nb"}};
  h.framing = wire::Framing::kContentLength;
  h.content_length = 12;
  h.close = true;
  std::string s = wire::format_head(h);
  EXPECT_EQ(s.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << s;
  EXPECT_NE(s.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nX-Ok: v\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nX-Nl: a b\r\n"), std::string::npos);
  EXPECT_EQ(s.find("gzip"), std::string::npos);
  EXPECT_EQ(s.find("Bad"), std::string::npos);
  EXPECT_NE(s.find("\r\nContent-Length: 12\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
  EXPECT_EQ(wire::chunk("hello world, this!"), "12\r\nhello world, this!\r\n");
  EXPECT_EQ(wire::reason_phrase(799), "Unknown");
  EXPECT_EQ(wire::http_date(std::chrono::system_clock::from_time_t(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(Json, ErrorBodyAndSse) {
  EXPECT_EQ(json_error_body("bad \"x\"\n\x01"), R"({"error":"bad \"x\"\n\u0001"})");
  EXPECT_EQ(sse_event("a\nb", "msg"), "event: msg\ndata: a\ndata: b\n\n");
  EXPECT_EQ(sse_event("[DONE]"), "data: [DONE]\n\n");
}

TEST(Json, QuoteIsAlwaysValidUtf8) {
  // Valid UTF-8 passes through; every byte that is not part of a well-formed sequence (a stray
  // continuation, a cut sequence, an overlong form, a surrogate) becomes U+FFFD.
  EXPECT_EQ(json_quote("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");
  EXPECT_EQ(json_quote("a\xff"
                       "b"),
            "\"a\xef\xbf\xbd"
            "b\"");
  EXPECT_EQ(json_quote("\xc3"), "\"\xef\xbf\xbd\"");                                  // cut at the end
  EXPECT_EQ(json_quote("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");                  // overlong '/'
  EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");  // surrogate
  EXPECT_EQ(json_error_body("x\x80"), "{\"error\":\"x\xef\xbf\xbd\"}");
}

TEST(MemoryWriter, RecordsAndSimulatesDisconnect) {
  auto w = std::make_shared<MemoryResponseWriter>();
  w->add_header("A", "1");
  w->start(200, "application/x-ndjson", {{"B", "2"}}, true);
  EXPECT_TRUE(w->write("x"));
  EXPECT_TRUE(w->write("y"));
  bool cancelled = false;
  w->on_client_gone([&] { cancelled = true; });
  w->simulate_client_gone();
  EXPECT_TRUE(cancelled);
  EXPECT_FALSE(w->write("z"));
  w->finish();
  EXPECT_TRUE(w->wait_finished(std::chrono::milliseconds(0)));
  EXPECT_EQ(w->body(), "xy");
  EXPECT_EQ(w->writes().size(), 2u);
  EXPECT_EQ(w->header("b"), "2");
  EXPECT_TRUE(w->chunked());

  MemoryResponseWriter e;
  e.respond_error(400, "nope");
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.body(), R"({"error":"nope"})");
  EXPECT_EQ(e.content_type(), "application/json; charset=utf-8");
}

}  // namespace
}  // namespace corral::http
