// OpenAI's n: several choices for one prompt, against the real server. Each choice is its own
// job with its own seed (seed + index when the request sets one), answered in one response; the
// engine prefills the shared prompt once and forks it (engine/prefill_sharing.h), which the
// prefix-reuse counters show.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/http_client.h"
#include "common/prometheus_text.h"
#include "server/server_process.h"
#include "server/stream_records.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

class OpenAiChoices : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "4"}}).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static HttpResponse post(const std::string& path, const json& body) {
    return http_post(server_->url(path), body.dump());
  }
  static double metric(const std::string& name) {
    const PromExposition e = parse_prometheus_text(http_get(server_->url("/metrics")).body);
    return e.value(name, {{"model", "tiny:latest"}}).value_or(0);
  }
  static ServerProcess* server_;
};
ServerProcess* OpenAiChoices::server_ = nullptr;

json chat(const std::string& text, int n, int seed) {
  return {{"model", "tiny"}, {"messages", json::array({{{"role", "user"}, {"content", text}}})},
          {"max_tokens", 8}, {"temperature", 1.5},
          {"seed", seed},    {"n", n}};
}

TEST_F(OpenAiChoices, EachChoiceIsTheSingleRequestWithSeedPlusItsIndex) {
  ASSERT_NE(server_, nullptr);
  auto r = post("/v1/chat/completions", chat("Tell me about the sea", 3, 41));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  ASSERT_EQ(j["choices"].size(), 3u) << r.body;
  int64_t single_prompt = 0;
  std::set<std::string> distinct;
  for (int i = 0; i < 3; ++i) {
    const json& c = j["choices"][i];
    EXPECT_EQ(c["index"], i);
    EXPECT_EQ(c["finish_reason"], "length");
    auto one = post("/v1/chat/completions", chat("Tell me about the sea", 1, 41 + i));
    ASSERT_EQ(one.status, 200) << one.body;
    const json o = json::parse(one.body);
    EXPECT_EQ(c["message"], o["choices"][0]["message"]) << "choice " << i;
    single_prompt = o["usage"]["prompt_tokens"].get<int64_t>();
    distinct.insert(c["message"]["content"].get<std::string>());
  }
  EXPECT_GT(distinct.size(), 1u) << "the choices' seeds differ, so should (some of) their texts";
  // OpenAI counts the prompt once and every choice's tokens.
  EXPECT_EQ(j["usage"]["prompt_tokens"], single_prompt);
  EXPECT_EQ(j["usage"]["completion_tokens"], 24);
  EXPECT_EQ(j["usage"]["total_tokens"], single_prompt + 24);
}

TEST_F(OpenAiChoices, StreamedChoicesCarryTheirIndexAndEachEndsOnce) {
  json req = chat("Name three colours", 3, 7);
  auto whole = post("/v1/chat/completions", req);
  ASSERT_EQ(whole.status, 200) << whole.body;
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  auto r = post("/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<int, std::string> text;
  std::map<int, int> finishes;
  json usage;
  for (const json& c : stream_records(r.body)) {
    if (c["choices"].empty()) {
      usage = c["usage"];
      continue;
    }
    ASSERT_EQ(c["choices"].size(), 1u);
    const json& ch = c["choices"][0];
    const int i = ch["index"].get<int>();
    if (ch["delta"].contains("content")) text[i] += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) ++finishes[i];
  }
  const json w = json::parse(whole.body);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(finishes[i], 1) << "choice " << i;
    EXPECT_EQ(text[i], w["choices"][i]["message"]["content"]) << "choice " << i;
  }
  EXPECT_EQ(usage["completion_tokens"], 24);
  EXPECT_EQ(usage["prompt_tokens"], w["usage"]["prompt_tokens"]);
}

TEST_F(OpenAiChoices, ThePromptIsPrefilledOnceAndForked) {
  // A prompt no earlier request left in the prefix cache.
  const std::string text =
      "Write a long list of the rivers of a country that does not exist, with the towns on their banks, "
      "their sources and their mouths, and say which of them can be crossed on foot in the dry season";
  const double before = metric("corral:prefix_cache_hit_tokens_total");
  const double hits_before = metric("corral:prefix_cache_hits_total");
  auto r = post("/v1/chat/completions", chat(text, 4, 3));
  ASSERT_EQ(r.status, 200) << r.body;
  const int64_t prompt = json::parse(r.body)["usage"]["prompt_tokens"].get<int64_t>();
  ASSERT_GT(prompt, 40);
  // Choices 1..3 take every prompt position but the last from choice 0.
  EXPECT_GE(metric("corral:prefix_cache_hit_tokens_total") - before, 3.0 * static_cast<double>(prompt - 1));
  // One hit per request: the three forks, and choice 0 too when the kept prefix of an earlier
  // request (the template's opening tokens) gave it a start.
  const double hits = metric("corral:prefix_cache_hits_total") - hits_before;
  EXPECT_GE(hits, 3.0);
  EXPECT_LE(hits, 4.0);
}

TEST_F(OpenAiChoices, LegacyCompletionsToo) {
  auto r = post("/v1/completions",
                {{"model", "tiny"}, {"prompt", "Once upon a time"}, {"max_tokens", 5}, {"n", 2}, {"seed", 11}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  ASSERT_EQ(j["choices"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(j["choices"][i]["index"], i);
    EXPECT_TRUE(j["choices"][i]["text"].is_string());
  }
  EXPECT_EQ(j["usage"]["completion_tokens"], 10);
}

TEST_F(OpenAiChoices, OutOfRangeNIsABadRequest) {
  for (const json& n : {json(0), json(-1), json(129), json("2"), json(1.5)}) {
    json req = chat("hi", 1, 1);
    req["n"] = n;
    auto r = post("/v1/chat/completions", req);
    EXPECT_EQ(r.status, 400) << n << ": " << r.body;
    EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("'n'"), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace corral::testing
