// Token log-probabilities on every completion endpoint: Ollama's logprobs / top_logprobs on
// /api/generate and /api/chat (its 2025-11 format), OpenAI's on /v1/chat/completions (boolean +
// top_logprobs) and /v1/completions (an integer), streamed and whole. Greedy decoding makes
// them checkable: the chosen token is always the most likely one.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "server/server_process.h"
#include "server/stream_records.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

class Logprobs : public ::testing::Test {
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
ServerProcess* Logprobs::server_ = nullptr;

// One entry of Ollama's or OpenAI chat's format: a log-probability, bytes spelling the token,
// `top` alternatives most likely first, the chosen token the first of them (greedy).
void expect_entry(const json& e, size_t top) {
  ASSERT_TRUE(e.contains("token") && e["token"].is_string()) << e.dump();
  const double lp = e.value("logprob", 1.0);
  EXPECT_LE(lp, 0.0) << e.dump();
  std::string bytes;
  for (const json& b : e["bytes"]) bytes += static_cast<char>(b.get<int>());
  EXPECT_EQ(bytes, e["token"].get<std::string>());
  ASSERT_EQ(e["top_logprobs"].size(), top) << e.dump();
  double mass = 0;
  for (size_t i = 0; i < top; ++i) {
    mass += std::exp(e["top_logprobs"][i].value("logprob", 1.0));
    if (i > 0) {
      EXPECT_GE(e["top_logprobs"][i - 1].value("logprob", 1.0), e["top_logprobs"][i].value("logprob", 1.0));
    }
  }
  EXPECT_LE(mass, 1.0 + 1e-4);
  EXPECT_EQ(e["top_logprobs"][0]["token"], e["token"]) << e.dump();
  EXPECT_NEAR(e["top_logprobs"][0].value("logprob", 1.0), lp, 1e-6);
}

TEST_F(Logprobs, OllamaGenerateAndChatReportEveryGeneratedToken) {
  for (const char* path : {"/api/generate", "/api/chat"}) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE(std::string(path) + (stream ? " stream" : ""));
      json req = {{"model", "tiny"},
                  {"stream", stream},
                  {"logprobs", true},
                  {"top_logprobs", 3},
                  {"options", {{"num_predict", 12}, {"temperature", 0}}}};
      if (std::string(path) == "/api/chat") {
        req["messages"] = {{{"role", "user"}, {"content", "Once upon"}}};
      } else {
        req["prompt"] = "Once upon a time";
      }
      auto r = post(path, req);
      ASSERT_EQ(r.status, 200) << r.body;
      std::vector<json> entries;
      int64_t eval_count = -1;
      for (const json& rec : stream_records(r.body)) {
        if (rec.contains("logprobs"))
          for (const json& e : rec["logprobs"]) entries.push_back(e);
        if (rec.value("done", false)) eval_count = rec.value("eval_count", -1);
      }
      EXPECT_EQ(static_cast<int64_t>(entries.size()), eval_count);
      for (const json& e : entries) expect_entry(e, 3);
    }
  }
  // Without the field there are none.
  auto r = post("/api/generate",
                json{{"model", "tiny"}, {"prompt", "Once"}, {"stream", false}, {"options", {{"num_predict", 3}}}});
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(json::parse(r.body).contains("logprobs"));
}

TEST_F(Logprobs, OutOfRangeTopLogprobsIsA400) {
  auto r = post("/api/generate", json{{"model", "tiny"}, {"prompt", "Once"}, {"logprobs", true}, {"top_logprobs", 21}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).value("error", ""), "top_logprobs must be between 0 and 20");
  auto o = post("/v1/chat/completions",
                json{{"model", "tiny"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"top_logprobs", 3}});
  EXPECT_EQ(o.status, 400) << o.body;
  auto c = post("/v1/completions", json{{"model", "tiny"}, {"prompt", "hi"}, {"logprobs", 6}});
  EXPECT_EQ(c.status, 400) << c.body;
}

TEST_F(Logprobs, OpenAiChatCarriesThemPerChoiceStreamedToo) {
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "stream" : "whole");
    json req = {{"model", "tiny"},  {"messages", {{{"role", "user"}, {"content", "Once upon"}}}},
                {"max_tokens", 10}, {"temperature", 0},
                {"logprobs", true}, {"top_logprobs", 2},
                {"stream", stream}, {"stream_options", {{"include_usage", true}}}};
    if (!stream) req.erase("stream_options");
    auto r = post("/v1/chat/completions", req);
    ASSERT_EQ(r.status, 200) << r.body;
    std::vector<json> entries;
    int64_t completion_tokens = -1;
    for (const json& rec : stream_records(r.body)) {
      if (rec.contains("usage") && rec["usage"].is_object())
        completion_tokens = rec["usage"].value("completion_tokens", -1);
      if (rec["choices"].empty()) continue;
      const json& lp = rec["choices"][0]["logprobs"];
      if (lp.is_null()) continue;
      EXPECT_TRUE(lp.contains("refusal"));
      for (const json& e : lp["content"]) entries.push_back(e);
    }
    EXPECT_EQ(static_cast<int64_t>(entries.size()), completion_tokens);
    for (const json& e : entries) expect_entry(e, 2);
  }
}

TEST_F(Logprobs, OpenAiCompletionsUseTheLegacyShape) {
  auto r = post(
      "/v1/completions",
      json{{"model", "tiny"}, {"prompt", "Once upon a time"}, {"max_tokens", 8}, {"temperature", 0}, {"logprobs", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  const json& lp = j["choices"][0]["logprobs"];
  ASSERT_TRUE(lp.is_object()) << r.body;
  const size_t n = lp["tokens"].size();
  EXPECT_EQ(static_cast<int64_t>(n), j["usage"].value("completion_tokens", -1));
  ASSERT_EQ(lp["token_logprobs"].size(), n);
  ASSERT_EQ(lp["top_logprobs"].size(), n);
  ASSERT_EQ(lp["text_offset"].size(), n);
  int64_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(lp["text_offset"][i].get<int64_t>(), offset);
    offset += static_cast<int64_t>(lp["tokens"][i].get<std::string>().size());
    EXPECT_EQ(lp["top_logprobs"][i].size(), 2u);
    // Greedy: the chosen token is among (in fact first of) the alternatives.
    EXPECT_TRUE(lp["top_logprobs"][i].contains(lp["tokens"][i].get<std::string>())) << lp.dump();
  }
}

}  // namespace
}  // namespace corral::testing
