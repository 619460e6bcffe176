// Hostile input, part 2: depth and size. 100,000 nested arrays or objects in any field (or as
// the whole body) once overflowed the stack when the request was copied and killed the server
// with every request in flight; now each is a 400 and the server answers afterwards. Nesting
// just under the limit in a legitimate place still works; over-large bodies, strings and
// option values get a clear 4xx or bounded handling.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_depth.h"
#include "common/http_client.h"
#include "server/hostile_util.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;
using hostile::error_message;
using hostile::nested_arrays;
using hostile::nested_objects;
using hostile::splice;
using hostile::valid_utf8;

constexpr int kDeep = 100000;
constexpr int kLimit = 512;  // server/api_common.h kMaxRequestJsonDepth
constexpr const char* kHole = "__HOLE__";

TEST(JsonDepth, CountsBracketsOutsideStrings) {
  EXPECT_FALSE(json_nests_deeper_than("[[[]]]", 3));
  EXPECT_TRUE(json_nests_deeper_than("[[[[]]]]", 3));
  EXPECT_TRUE(json_nests_deeper_than("{\"a\":{\"b\":{\"c\":{}}}}", 3));
  // Brackets inside strings, escaped quotes included, do not count.
  EXPECT_FALSE(json_nests_deeper_than("[\"[[[[[[\", \"\\\"[[[[\"]", 1));
  EXPECT_TRUE(json_nests_deeper_than("[\"\\\\\", [[]]]", 2));
  // Siblings do not add up.
  EXPECT_FALSE(json_nests_deeper_than("[[],[],[[]],{}]", 3));
  EXPECT_TRUE(json_nests_deeper_than(nested_arrays(kDeep), 512));
  EXPECT_FALSE(json_nests_deeper_than(nested_arrays(512), 512));
}

class HostileDepth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = ServerProcess::start(shared_test_store()).release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static void expect_alive() {
    const auto r = http_get(server_->url("/"));
    ASSERT_EQ(r.status, 200) << "the server stopped answering; log:\n" << server_->log();
  }
  static void expect_depth_error(const std::string& method, const std::string& path, const std::string& body,
                                 const std::string& what) {
    const auto r = http_request(method, server_->url(path), body);
    EXPECT_EQ(r.status, 400) << what << ": " << r.body.substr(0, 200);
    EXPECT_TRUE(valid_utf8(r.body)) << what;
    EXPECT_NE(error_message(r.body).find("deeper than 512"), std::string::npos)
        << what << ": " << r.body.substr(0, 200);
    expect_alive();
  }
  static ServerProcess* server_;
};
ServerProcess* HostileDepth::server_ = nullptr;

struct Hole {
  std::string path;
  json body;  // holds kHole where the nesting goes
};

std::vector<Hole> holes() {
  const json user = json{{"role", "user"}, {"content", "hi"}};
  const json tool_with_params = json{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", kHole}}}};
  return {
      {"/api/generate", json{{"model", "stories"}, {"prompt", "hi"}, {"format", kHole}}},
      {"/api/generate", json{{"model", "stories"}, {"prompt", "hi"}, {"options", {{"stop", kHole}}}}},
      {"/api/generate", json{{"model", "stories"}, {"prompt", "hi"}, {"options", kHole}}},
      {"/api/generate", json{{"model", "stories"}, {"prompt", "hi"}, {"context", kHole}}},
      {"/api/chat", json{{"model", "stories"}, {"messages", {user}}, {"format", kHole}}},
      {"/api/chat", json{{"model", "stories"}, {"messages", {user}}, {"tools", kHole}}},
      {"/api/chat", json{{"model", "stories"}, {"messages", {user}}, {"tools", {tool_with_params}}}},
      {"/api/chat", json{{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", kHole}}}}}},
      {"/api/chat", json{{"model", "stories"}, {"messages", {{{"role", "assistant"}, {"tool_calls", kHole}}}}}},
      {"/api/chat", json{{"model", "stories"}, {"messages", {user}}, {"options", {{"stop", kHole}}}}},
      {"/api/embed", json{{"model", "stories"}, {"input", kHole}}},
      {"/api/embeddings", json{{"model", "stories"}, {"prompt", "hi"}, {"options", kHole}}},
      {"/api/show", json{{"model", kHole}}},
      {"/api/copy", json{{"source", kHole}, {"destination", "x"}}},
      {"/api/pull", json{{"model", kHole}}},
      {"/api/push", json{{"model", kHole}}},
      {"/v1/chat/completions", json{{"model", "stories"}, {"messages", {user}}, {"response_format", kHole}}},
      {"/v1/chat/completions", json{{"model", "stories"}, {"messages", {user}}, {"tools", kHole}}},
      {"/v1/chat/completions", json{{"model", "stories"}, {"messages", {user}}, {"tools", {tool_with_params}}}},
      {"/v1/chat/completions", json{{"model", "stories"}, {"messages", {{{"role", "user"}, {"content", kHole}}}}}},
      {"/v1/chat/completions", json{{"model", "stories"}, {"messages", {user}}, {"stop", kHole}}},
      {"/v1/completions", json{{"model", "stories"}, {"prompt", kHole}}},
      {"/v1/embeddings", json{{"model", "stories"}, {"input", kHole}}},
  };
}

TEST_F(HostileDepth, DeepNestingInAnyFieldIsA400AndTheServerLives) {
  for (const Hole& h : holes()) {
    expect_depth_error("POST", h.path, splice(h.body, kHole, nested_arrays(kDeep)),
                       h.path + " " + h.body.dump() + " arrays");
    expect_depth_error("POST", h.path, splice(h.body, kHole, nested_objects(kDeep)),
                       h.path + " " + h.body.dump() + " objects");
  }
}

TEST_F(HostileDepth, ADeepWholeBodyIsA400OnEveryRoute) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{{"POST", "/api/generate"},
                                                                                     {"POST", "/api/chat"},
                                                                                     {"POST", "/api/embed"},
                                                                                     {"POST", "/api/embeddings"},
                                                                                     {"POST", "/api/show"},
                                                                                     {"POST", "/api/copy"},
                                                                                     {"DELETE", "/api/delete"},
                                                                                     {"POST", "/api/pull"},
                                                                                     {"POST", "/api/push"},
                                                                                     {"POST", "/v1/chat/completions"},
                                                                                     {"POST", "/v1/completions"},
                                                                                     {"POST", "/v1/embeddings"}}) {
    expect_depth_error(method, path, nested_arrays(kDeep), path + " arrays");
    expect_depth_error(method, path, "{\"model\":\"stories\",\"x\":" + nested_objects(kDeep) + "}", path + " objects");
  }
}

TEST_F(HostileDepth, DeepToolCallArgumentsInsideAStringAreA400) {
  // OpenAI sends tool call arguments as a JSON text inside a string; parsing it is bounded too.
  const std::string args = "{\"a\":" + nested_arrays(kDeep) + "}";
  const json body{{"model", "stories"},
                  {"max_tokens", 1},
                  {"messages",
                   {{{"role", "assistant"},
                     {"content", ""},
                     {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", args}}}}}}},
                    {{"role", "user"}, {"content", "hi"}}}}};
  expect_depth_error("POST", "/v1/chat/completions", body.dump(), "tool call arguments");
  // Ollama's chat takes them as an object, but a string is decoded when the template renders it.
  const json ollama{{"model", "stories"},
                    {"stream", false},
                    {"options", {{"num_predict", 1}}},
                    {"messages",
                     {{{"role", "assistant"},
                       {"content", ""},
                       {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", args}}}}}}},
                      {{"role", "user"}, {"content", "hi"}}}}};
  const auto r = http_post(server_->url("/api/chat"), ollama.dump());
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 200);
  expect_alive();
}

TEST_F(HostileDepth, NestingAtTheLimitInALegitimatePlaceWorks) {
  // tools -> [0] -> {function} -> {parameters} -> ...: the body's own object and these four
  // levels plus the nesting inside make the body's depth.
  const json tool = json{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", kHole}}}};
  const json body{{"model", "tiny-tools"},
                  {"stream", false},
                  {"options", {{"num_predict", 1}}},
                  {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                  {"tools", {tool}}};
  // body{ tools[ tool{ function{ parameters: here } } } = 4 levels above the nesting.
  auto r = http_post(server_->url("/api/chat"), splice(body, kHole, nested_arrays(kLimit - 4)));
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
  r = http_post(server_->url("/api/chat"), splice(body, kHole, nested_arrays(kLimit - 3)));
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  // A deep but legal JSON schema in format still compiles or is refused by the schema compiler
  // with its own message, never by crashing.
  json schema = json{{"type", "string"}};
  for (int i = 0; i < 100; ++i) schema = json{{"type", "array"}, {"items", schema}};
  r = http_post(server_->url("/api/generate"), json{{"model", "stories"},
                                                    {"prompt", "hi"},
                                                    {"stream", false},
                                                    {"format", schema},
                                                    {"options", {{"num_predict", 1}}}}
                                                   .dump());
  EXPECT_TRUE(r.status == 200 || r.status == 400) << r.status << " " << r.body.substr(0, 300);
  if (r.status == 400) { EXPECT_NE(error_message(r.body).find("format"), std::string::npos) << r.body; }
  expect_alive();
}

TEST_F(HostileDepth, ADeeplyNestedTemplateIsAClearError) {
  std::string tmpl;
  for (int i = 0; i < kDeep; ++i) tmpl += "{{if true}}";
  for (int i = 0; i < kDeep; ++i) tmpl += "{{end}}";
  auto r = http_post(server_->url("/api/generate"),
                     json{{"model", "stories"}, {"prompt", "hi"}, {"stream", false}, {"template", tmpl}}.dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_NE(error_message(r.body).find("template"), std::string::npos) << r.body.substr(0, 300);
  std::string parens = "{{ " + std::string(kDeep, '(') + "1" + std::string(kDeep, ')') + " }}";
  r = http_post(server_->url("/api/generate"),
                json{{"model", "stories"}, {"prompt", "hi"}, {"stream", false}, {"template", parens}}.dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  expect_alive();
}

TEST_F(HostileDepth, OverLargeBodiesAndValuesAreBounded) {
  // Over the 32 MiB body limit: 413 at the headers, before any of the body is read.
  const auto big = hostile::raw_exchange(server_->port(),
                                         "POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                         "Content-Type: application/json\r\nContent-Length: " +
                                             std::to_string(33u << 20) + "\r\n\r\n{");
  EXPECT_EQ(big.status, 413) << big.head;
  expect_alive();

  // A 4 MB model name is an invalid name, not a lookup.
  const std::string long_name(4u << 20, 'a');
  auto r = http_post(server_->url("/api/show"), json{{"model", long_name}}.dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  EXPECT_LT(r.body.size(), 4096u) << "the error echoes the whole name";
  r = http_post(server_->url("/api/generate"), json{{"model", long_name}, {"prompt", "hi"}}.dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);

  // A prompt far over the context is refused, not truncated into a hang.
  std::string long_prompt;
  for (int i = 0; i < 20000; ++i) long_prompt += "once ";
  r = http_post(server_->url("/api/generate"), json{{"model", "stories"},
                                                    {"prompt", long_prompt},
                                                    {"stream", false},
                                                    {"options", {{"num_ctx", 64}, {"num_predict", 1}}}}
                                                   .dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);

  // Huge num_predict and num_ctx are bounded by the context actually loaded.
  const auto t0 = std::chrono::steady_clock::now();
  r = http_post(server_->url("/api/generate"),
                json{{"model", "stories"},
                     {"prompt", "hi"},
                     {"stream", false},
                     {"options", {{"num_predict", 9000000000000000000LL}, {"num_ctx", 64}}}}
                    .dump());
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 200);
  EXPECT_EQ(json::parse(r.body).value("done_reason", ""), "length") << r.body.substr(0, 200);
  r = http_post(server_->url("/api/generate"), json{{"model", "stories"},
                                                    {"prompt", "hi"},
                                                    {"stream", false},
                                                    {"options", {{"num_predict", 2}, {"num_ctx", 1 << 24}}}}
                                                   .dump());
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 200);
  r = http_post(server_->url("/api/generate"),
                json{{"model", "stories"}, {"prompt", "hi"}, {"options", {{"num_ctx", 1LL << 40}}}}.dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  EXPECT_NE(error_message(r.body).find("num_ctx"), std::string::npos) << r.body;
  r = http_post(server_->url("/api/generate"),
                json{{"model", "stories"}, {"prompt", "hi"}, {"options", {{"num_predict", 1e300}}}}.dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);

  // 100,000 stop strings: answered, in bounded time.
  json stops = json::array();
  for (int i = 0; i < 100000; ++i) stops.push_back("stop" + std::to_string(i));
  r = http_post(
      server_->url("/api/generate"),
      json{
          {"model", "stories"}, {"prompt", "hi"}, {"stream", false}, {"options", {{"num_predict", 4}, {"stop", stops}}}}
          .dump());
  EXPECT_TRUE(r.status == 200 || r.status == 400) << r.status << " " << r.body.substr(0, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  expect_alive();
}

}  // namespace
}  // namespace corral::testing
