// OpenAI's API (/v1) against the real server process: response shapes, server-sent events,
// usage, OpenAI's sampling defaults, errors in OpenAI's shape, and the shared queue bound.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

// The events of a text/event-stream body: the data of each, in order.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string ev = body.substr(pos, end - pos);
    EXPECT_EQ(ev.rfind("data: ", 0), 0u) << "event without data: " << ev;
    out.push_back(ev.substr(std::min<size_t>(6, ev.size())));
    pos = end + 2;
  }
  return out;
}

// The JSON chunks of a stream that must end with [DONE].
std::vector<json> sse_chunks(const std::string& body) {
  std::vector<std::string> data = sse_data(body);
  EXPECT_FALSE(data.empty());
  if (data.empty()) return {};
  EXPECT_EQ(data.back(), "[DONE]");
  EXPECT_EQ(body.substr(body.size() - std::min<size_t>(body.size(), 14)), "data: [DONE]\n\n");
  std::vector<json> out;
  for (size_t i = 0; i + 1 < data.size(); ++i) out.push_back(json::parse(data[i]));
  return out;
}

void expect_openai_error(const HttpResponse& r, int status, const std::string& type) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.headers.at("content-type").find("application/json"), std::string::npos);
  json j = json::parse(r.body);
  ASSERT_TRUE(j["error"].is_object()) << r.body;
  EXPECT_TRUE(j["error"]["message"].is_string());
  EXPECT_EQ(j["error"]["type"], type) << r.body;
  EXPECT_TRUE(j["error"].contains("param"));
  EXPECT_TRUE(j["error"].contains("code"));
}

class OpenAiApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = ServerProcess::start(shared_test_store()).release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static HttpResponse post(const std::string& path, const json& body) {
    return http_post(server_->url(path), body.dump());
  }
  static ServerProcess* server_;
};
ServerProcess* OpenAiApi::server_ = nullptr;

const json kHello = json::array({{{"role", "user"}, {"content", "Tell me a story"}}});

TEST_F(OpenAiApi, ChatCompletionShape) {
  ASSERT_NE(server_, nullptr);
  const int64_t before =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto r = post("/v1/chat/completions", {{"model", "tiny"}, {"messages", kHello}, {"max_tokens", 8}, {"seed", 3}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("application/json"), std::string::npos);
  json j = json::parse(r.body);
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_GE(j["created"].get<int64_t>(), before);
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["system_fingerprint"], "fp_corral");
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_FALSE(j["choices"][0]["message"]["content"].get<std::string>().empty());
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 8);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + 8);
  // max_completion_tokens is the newer name for the same budget.
  auto r2 = post("/v1/chat/completions",
                 {{"model", "tiny"}, {"messages", kHello}, {"max_completion_tokens", 8}, {"seed", 3}});
  ASSERT_EQ(r2.status, 200);
  EXPECT_EQ(json::parse(r2.body)["choices"][0]["message"], j["choices"][0]["message"]);
  EXPECT_NE(json::parse(r2.body)["id"], j["id"]);
}

TEST_F(OpenAiApi, ChatStreamIsServerSentEventsEndingInDone) {
  const json req = {{"model", "tiny"}, {"messages", kHello}, {"max_tokens", 12}, {"seed", 5}, {"stream", true}};
  auto r = post("/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  auto chunks = sse_chunks(r.body);
  ASSERT_GE(chunks.size(), 2u);
  std::string text;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const json& c = chunks[i];
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], chunks[0]["id"]);
    EXPECT_EQ(c["created"], chunks[0]["created"]);
    EXPECT_EQ(c["model"], "tiny");
    EXPECT_FALSE(c.contains("usage"));
    ASSERT_EQ(c["choices"].size(), 1u);
    EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
    text += c["choices"][0]["delta"]["content"].get<std::string>();
    if (i + 1 < chunks.size()) { EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null()); }
  }
  EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "length");
  json whole = req;
  whole["stream"] = false;
  auto w = post("/v1/chat/completions", whole);
  ASSERT_EQ(w.status, 200);
  EXPECT_EQ(json::parse(w.body)["choices"][0]["message"]["content"], text);
}

TEST_F(OpenAiApi, IncludeUsageAddsAFinalChunkWithEmptyChoices) {
  auto r = post("/v1/chat/completions", {{"model", "tiny"},
                                         {"messages", kHello},
                                         {"max_tokens", 6},
                                         {"stream", true},
                                         {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto chunks = sse_chunks(r.body);
  ASSERT_GE(chunks.size(), 3u);
  const json& last = chunks.back();
  EXPECT_TRUE(last["choices"].is_array() && last["choices"].empty());
  EXPECT_EQ(last["usage"]["completion_tokens"], 6);
  EXPECT_EQ(last["usage"]["total_tokens"], last["usage"]["prompt_tokens"].get<int>() + 6);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_TRUE(chunks[i]["usage"].is_null()) << chunks[i];
  EXPECT_EQ(chunks[chunks.size() - 2]["choices"][0]["finish_reason"], "length");
}

TEST_F(OpenAiApi, TemperatureAndTopPDefaultToOne) {
  auto content = [](const HttpResponse& r) { return json::parse(r.body)["choices"][0]["message"]["content"]; };
  for (int seed : {1, 2, 3}) {
    auto implicit =
        post("/v1/chat/completions", {{"model", "tiny"}, {"messages", kHello}, {"max_tokens", 20}, {"seed", seed}});
    auto explicit_ = post("/v1/chat/completions", {{"model", "tiny"},
                                                   {"messages", kHello},
                                                   {"max_tokens", 20},
                                                   {"seed", seed},
                                                   {"temperature", 1.0},
                                                   {"top_p", 1.0}});
    ASSERT_EQ(implicit.status, 200);
    ASSERT_EQ(explicit_.status, 200);
    EXPECT_EQ(content(implicit), content(explicit_));
    // The same sampling through Ollama's API, which defaults to 0.8/0.9 unless told.
    auto ollama =
        post("/api/chat", {{"model", "tiny"},
                           {"messages", kHello},
                           {"stream", false},
                           {"options", {{"num_predict", 20}, {"seed", seed}, {"temperature", 1.0}, {"top_p", 1.0}}}});
    ASSERT_EQ(ollama.status, 200);
    EXPECT_EQ(content(implicit), json::parse(ollama.body)["message"]["content"]);
  }
}

TEST_F(OpenAiApi, StopStringOrArrayEndsTheOutputBeforeIt) {
  const json base = {{"model", "stories"}, {"messages", kHello}, {"max_tokens", 40}, {"temperature", 0}};
  auto free = post("/v1/chat/completions", base);
  ASSERT_EQ(free.status, 200);
  const std::string text = json::parse(free.body)["choices"][0]["message"]["content"];
  ASSERT_GT(text.size(), 12u);
  const std::string stop = text.substr(8, 3);
  const std::string expected = text.substr(0, text.find(stop));
  for (const json& s : {json(stop), json::array({"zzzz", stop})}) {
    json req = base;
    req["stop"] = s;
    auto r = post("/v1/chat/completions", req);
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["choices"][0]["message"]["content"], expected);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  }
}

TEST_F(OpenAiApi, ResponseFormatJsonObjectAndToolsAccepted) {
  auto r = post("/v1/chat/completions", {{"model", "stories"},
                                         {"messages", kHello},
                                         {"max_tokens", 40},
                                         {"seed", 9},
                                         {"response_format", {{"type", "json_object"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string content = json::parse(r.body)["choices"][0]["message"]["content"];
  json parsed = json::parse(content, nullptr, false);
  EXPECT_TRUE(parsed.is_object()) << content;
  const json tools = json::array(
      {{{"type", "function"},
        {"function",
         {{"name", "get_weather"},
          {"description", "Weather in a city"},
          {"parameters",
           {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}, {"required", {"city"}}}}}}}});
  const json messages =
      json::array({{{"role", "system"}, {"content", "Be brief."}},
                   {{"role", "user"}, {"content", "Weather?"}},
                   {{"role", "assistant"},
                    {"content", nullptr},
                    {"tool_calls",
                     {{{"id", "call_1"},
                       {"type", "function"},
                       {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}}}},
                   {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny"}},
                   {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "Thanks"}}})}}});
  auto t = post("/v1/chat/completions",
                {{"model", "tiny-tools"}, {"messages", messages}, {"tools", tools}, {"max_tokens", 4}});
  EXPECT_EQ(t.status, 200) << t.body;
}

TEST_F(OpenAiApi, TextCompletions) {
  auto r =
      post("/v1/completions", {{"model", "tiny"}, {"prompt", "Once upon a time"}, {"max_tokens", 10}, {"seed", 4}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["system_fingerprint"], "fp_corral");
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 10);
  const std::string text = j["choices"][0]["text"];
  // The same request through /api/generate (which /v1/completions maps to).
  auto g =
      post("/api/generate", {{"model", "tiny"},
                             {"prompt", "Once upon a time"},
                             {"stream", false},
                             {"options", {{"num_predict", 10}, {"seed", 4}, {"temperature", 1.0}, {"top_p", 1.0}}}});
  EXPECT_EQ(json::parse(g.body)["response"], text);
  auto s = post("/v1/completions", {{"model", "tiny"},
                                    {"prompt", "Once upon a time"},
                                    {"max_tokens", 10},
                                    {"seed", 4},
                                    {"stream", true},
                                    {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.headers["content-type"], "text/event-stream");
  auto chunks = sse_chunks(s.body);
  ASSERT_GE(chunks.size(), 3u);
  std::string streamed;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i]["object"], "text_completion");
    streamed += chunks[i]["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(streamed, text);
  EXPECT_EQ(chunks[chunks.size() - 2]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(chunks.back()["usage"]["completion_tokens"], 10);
}

TEST_F(OpenAiApi, ModelsListAndRetrieve) {
  auto r = http_get(server_->url("/v1/models"));
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "list");
  bool found = false;
  for (const auto& m : j["data"]) {
    EXPECT_EQ(m["object"], "model");
    EXPECT_TRUE(m["created"].is_number_integer());
    if (m["id"] != "tiny:latest") continue;
    found = true;
    EXPECT_EQ(m["owned_by"], "library");
  }
  EXPECT_TRUE(found) << r.body;
  for (const std::string name :
       {"tiny", "tiny:latest", "library/tiny:latest", "registry.ollama.ai/library/tiny:latest"}) {
    auto one = http_get(server_->url("/v1/models/" + name));
    ASSERT_EQ(one.status, 200) << name << ": " << one.body;
    json m = json::parse(one.body);
    EXPECT_EQ(m["id"], name);
    EXPECT_EQ(m["object"], "model");
    EXPECT_EQ(m["owned_by"], "library");
    EXPECT_GT(m["created"].get<int64_t>(), 0);
  }
  auto missing = http_get(server_->url("/v1/models/someone/nope:7b"));
  expect_openai_error(missing, 404, "not_found_error");
  EXPECT_EQ(json::parse(missing.body)["error"]["code"], "model_not_found");
}

std::vector<float> from_base64(const std::string& s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = val(c);
    if (v < 0) break;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

TEST_F(OpenAiApi, Embeddings) {
  auto r = post("/v1/embeddings", {{"model", "tiny"}, {"input", {"hello", "world"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["model"], "tiny");
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][1]["object"], "embedding");
  EXPECT_EQ(j["data"][1]["index"], 1);
  const std::vector<float> v = j["data"][0]["embedding"];
  EXPECT_EQ(v.size(), 128u);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"]);
  // The same vector as /api/embed.
  auto ollama = post("/api/embed", {{"model", "tiny"}, {"input", "hello"}});
  const std::vector<float> o = json::parse(ollama.body)["embeddings"][0];
  ASSERT_EQ(o.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(v[i], o[i]);

  auto b64 = post("/v1/embeddings", {{"model", "tiny"}, {"input", "hello"}, {"encoding_format", "base64"}});
  ASSERT_EQ(b64.status, 200) << b64.body;
  EXPECT_EQ(from_base64(json::parse(b64.body)["data"][0]["embedding"]), v);

  auto dims = post("/v1/embeddings", {{"model", "tiny"}, {"input", "hello"}, {"dimensions", 16}});
  ASSERT_EQ(dims.status, 200);
  const std::vector<float> d = json::parse(dims.body)["data"][0]["embedding"];
  ASSERT_EQ(d.size(), 16u);
  double norm = 0;
  for (float x : d) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-4);

  expect_openai_error(post("/v1/embeddings", {{"model", "tiny"}, {"input", "x"}, {"encoding_format", "int8"}}), 400,
                      "invalid_request_error");
  expect_openai_error(post("/v1/embeddings", {{"model", "tiny"}}), 400, "invalid_request_error");
  expect_openai_error(post("/v1/embeddings", {{"model", "tiny"}, {"input", json::array()}}), 400,
                      "invalid_request_error");
  expect_openai_error(post("/v1/embeddings", {{"model", "nope"}, {"input", "x"}}), 404, "not_found_error");
}

TEST_F(OpenAiApi, ErrorsUseOpenAisShape) {
  auto bad = http_post(server_->url("/v1/chat/completions"), "{not json");
  expect_openai_error(bad, 400, "invalid_request_error");
  EXPECT_TRUE(json::parse(bad.body)["error"]["param"].is_null());
  EXPECT_TRUE(json::parse(bad.body)["error"]["code"].is_null());

  auto unknown = post("/v1/chat/completions", {{"model", "nope"}, {"messages", kHello}});
  expect_openai_error(unknown, 404, "not_found_error");
  EXPECT_EQ(json::parse(unknown.body)["error"]["message"], "model 'nope' not found");

  auto empty = post("/v1/chat/completions", {{"model", "tiny"}, {"messages", json::array()}});
  expect_openai_error(empty, 400, "invalid_request_error");
  EXPECT_EQ(json::parse(empty.body)["error"]["message"], "[] is too short - 'messages'");

  const json chat = {{"model", "tiny"}, {"messages", kHello}};
  auto with = [&](const char* key, const json& v) {
    json r = chat;
    r[key] = v;
    return post("/v1/chat/completions", r);
  };
  expect_openai_error(with("n", 0), 400, "invalid_request_error");
  expect_openai_error(with("temperature", "hot"), 400, "invalid_request_error");
  expect_openai_error(with("max_tokens", "many"), 400, "invalid_request_error");
  expect_openai_error(with("stop", json::array({1, 2})), 400, "invalid_request_error");
  expect_openai_error(with("logprobs", "yes"), 400, "invalid_request_error");
  expect_openai_error(with("top_logprobs", 21), 400, "invalid_request_error");
  expect_openai_error(with("response_format", {{"type", "xml"}}), 400, "invalid_request_error");
  expect_openai_error(with("reasoning_effort", "extreme"), 400, "invalid_request_error");
  expect_openai_error(post("/v1/chat/completions", {{"messages", kHello}}), 400, "invalid_request_error");
  expect_openai_error(post("/v1/completions", {{"model", "tiny"}, {"prompt", "x"}, {"echo", true}}), 400,
                      "invalid_request_error");
  expect_openai_error(post("/v1/completions", {{"model", "tiny"}, {"prompt", "x"}, {"logprobs", 9}}), 400,
                      "invalid_request_error");
  // A prompt that does not fit is found once the model is loaded: still OpenAI's shape.
  auto too_long =
      post("/v1/completions", {{"model", "stories"}, {"prompt", std::string(20000, 'a')}, {"max_tokens", 2}});
  expect_openai_error(too_long, 400, "invalid_request_error");
  EXPECT_EQ(post("/v1/chat/completions", {{"model", "tiny"}, {"messages", kHello}, {"max_tokens", 2}}).status, 200);
}

TEST(OpenAiQueue, FullQueueAnswers503WithOpenAisBodyAndRetryAfter) {
  auto s = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "1"}, {"OLLAMA_MAX_QUEUE", "1"}});
  ASSERT_TRUE(s);
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < 10; ++i)
    fs.push_back(std::async(std::launch::async, [&, i] {
      const bool chat = i % 2 == 0;
      json body = {{"model", "stories-ctx"}, {"max_tokens", 100}, {"stream", i % 4 < 2}};
      if (chat) body["messages"] = kHello;
      else body["prompt"] = "Once " + std::to_string(i);
      return http_request("POST", s->url(chat ? "/v1/chat/completions" : "/v1/completions"), body.dump(), nullptr, 60);
    }));
  int ok = 0, busy = 0;
  for (auto& f : fs) {
    HttpResponse r = f.get();
    ASSERT_TRUE(r.error.empty()) << r.error;
    if (r.status == 200) {
      ++ok;
      continue;
    }
    ++busy;
    expect_openai_error(r, 503, "api_error");
    EXPECT_EQ(json::parse(r.body)["error"]["message"],
              "server busy, please try again.  maximum pending requests exceeded");
    EXPECT_FALSE(r.headers["retry-after"].empty());
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);

  // A streaming client that goes away frees the only slot at once.
  int chunks = 0;
  auto aborted = http_request(
      "POST", s->url("/v1/chat/completions"),
      json{{"model", "stories-ctx"}, {"messages", kHello}, {"stream", true}, {"max_tokens", 100000}}.dump(),
      [&](const std::string&) { return ++chunks < 5; });
  EXPECT_FALSE(aborted.error.empty());
  const auto t0 = std::chrono::steady_clock::now();
  auto next =
      http_post(s->url("/v1/completions"), json{{"model", "stories-ctx"}, {"prompt", "x"}, {"max_tokens", 5}}.dump());
  EXPECT_EQ(next.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace corral::testing
