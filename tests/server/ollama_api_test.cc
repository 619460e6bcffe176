// Ollama's API against the real server process: endpoints, JSON shapes, errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

std::vector<json> ndjson(const std::string& body) {
  std::vector<json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

class OllamaApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = ServerProcess::start(shared_test_store()).release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string url(const std::string& p) { return server_->url(p); }
  static ServerProcess* server_;
};
ServerProcess* OllamaApi::server_ = nullptr;

TEST_F(OllamaApi, RootAndVersion) {
  ASSERT_NE(server_, nullptr);
  auto r = http_get(url("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ollama is running");
  EXPECT_EQ(http_request("HEAD", url("/")).status, 200);
  auto v = http_get(url("/api/version"));
  EXPECT_EQ(v.status, 200);
  EXPECT_TRUE(json::parse(v.body).contains("version"));
}

TEST_F(OllamaApi, TagsListsTheStore) {
  auto r = http_get(url("/api/tags"));
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  std::set<std::string> names;
  for (const auto& m : j["models"]) {
    names.insert(m["name"].get<std::string>());
    EXPECT_TRUE(m.contains("digest"));
    EXPECT_TRUE(m.contains("size"));
    EXPECT_TRUE(m["details"].contains("family"));
  }
  EXPECT_TRUE(names.count("stories:latest"));
  EXPECT_TRUE(names.count("tiny:latest"));
}

TEST_F(OllamaApi, GenerateNonStreamingMatchesLlamaCppGreedy) {
  auto r = http_post(url("/api/generate"),
                     R"({"model":"stories","prompt":"Once upon a time","stream":false,"raw":true,
                        "options":{"temperature":0,"num_predict":20,"repeat_penalty":1.0}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["model"], "stories");
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["done_reason"], "length");
  EXPECT_EQ(j["eval_count"], 20);
  EXPECT_GT(j["total_duration"].get<int64_t>(), 0);
  EXPECT_TRUE(j["context"].is_array());
  // llama.cpp's greedy continuation of stories260K starts like this.
  EXPECT_EQ(j["response"].get<std::string>().rfind(", there was a little girl named Lily.", 0), 0u) << j["response"];
}

TEST_F(OllamaApi, StreamedChunksConcatenateToTheNonStreamedText) {
  const std::string req = R"({"model":"tiny","prompt":"The cat sat","options":{"seed":42,"num_predict":30}})";
  auto streamed = http_post(url("/api/generate"), req);
  ASSERT_EQ(streamed.status, 200);
  EXPECT_NE(streamed.headers["content-type"].find("application/x-ndjson"), std::string::npos);
  auto lines = ndjson(streamed.body);
  ASSERT_GE(lines.size(), 2u);
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["done"], false);
    text += lines[i]["response"].get<std::string>();
  }
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_TRUE(lines.back().contains("eval_duration"));
  auto whole =
      http_post(url("/api/generate"),
                R"({"model":"tiny","prompt":"The cat sat","stream":false,"options":{"seed":42,"num_predict":30}})");
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(json::parse(whole.body)["response"].get<std::string>(), text);
}

TEST_F(OllamaApi, ChatStreamsMessages) {
  auto r = http_post(
      url("/api/chat"),
      R"({"model":"tiny","messages":[{"role":"user","content":"Tell me a story"}],"options":{"num_predict":10}})");
  ASSERT_EQ(r.status, 200);
  auto lines = ndjson(r.body);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0]["message"]["role"], "assistant");
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_EQ(lines.back()["done_reason"], "length");
  auto nonstream = http_post(
      url("/api/chat"),
      R"({"model":"tiny","stream":false,"messages":[{"role":"user","content":"Hi"}],"options":{"num_predict":5}})");
  ASSERT_EQ(nonstream.status, 200);
  auto j = json::parse(nonstream.body);
  EXPECT_EQ(j["message"]["role"], "assistant");
  EXPECT_FALSE(j["message"]["content"].get<std::string>().empty());
}

TEST_F(OllamaApi, ErrorsAreOllamas) {
  auto bad = http_post(url("/api/generate"), "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(json::parse(bad.body).contains("error"));
  auto unknown = http_post(url("/api/generate"), R"({"model":"nope","prompt":"x"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["error"], "model 'nope' not found");
  auto opt = http_post(url("/api/generate"), R"({"model":"tiny","prompt":"x","options":{"top_k":"many"}})");
  EXPECT_EQ(opt.status, 400);
  auto missing = http_post(url("/api/chat"), R"({"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(missing.status, 400);
  auto too_long = http_post(url("/api/generate"), R"({"model":"stories","prompt":")" + std::string(3000, 'a') +
                                                      R"(","options":{"num_ctx":64}})");
  EXPECT_EQ(too_long.status, 400) << too_long.body;
  // Images would be silently ignored by a text-only model: refused instead, in both APIs.
  for (const auto& [path, body] :
       {std::pair{"/api/generate", R"({"model":"tiny","prompt":"x","images":["aGk="]})"},
        std::pair{"/api/chat", R"({"model":"tiny","messages":[{"role":"user","content":"x","images":["aGk="]}]})"}}) {
    auto img = http_post(url(path), body);
    EXPECT_EQ(img.status, 400) << path;
    EXPECT_EQ(json::parse(img.body)["error"], "images are not supported yet: corral runs text-only models") << path;
  }
  // The server is fine afterwards.
  EXPECT_EQ(
      http_post(url("/api/generate"), R"({"model":"tiny","prompt":"x","stream":false,"options":{"num_predict":2}})")
          .status,
      200);
}

TEST_F(OllamaApi, EmptyPromptLoadsAndKeepAliveZeroUnloads) {
  auto load = http_post(url("/api/generate"), R"({"model":"random"})");
  ASSERT_EQ(load.status, 200) << load.body;
  EXPECT_EQ(json::parse(load.body)["done_reason"], "load");
  auto ps = json::parse(http_get(url("/api/ps")).body);
  bool found = false;
  for (const auto& m : ps["models"]) found |= m["name"] == "random:latest";
  EXPECT_TRUE(found) << ps.dump();
  auto unload = http_post(url("/api/generate"), R"({"model":"random","keep_alive":0})");
  ASSERT_EQ(unload.status, 200);
  EXPECT_EQ(json::parse(unload.body)["done_reason"], "unload");
  ps = json::parse(http_get(url("/api/ps")).body);
  for (const auto& m : ps["models"]) EXPECT_NE(m["name"], "random:latest");
}

TEST_F(OllamaApi, ShowAndPs) {
  auto show = http_post(url("/api/show"), R"({"model":"tiny"})");
  ASSERT_EQ(show.status, 200) << show.body;
  auto j = json::parse(show.body);
  EXPECT_TRUE(j["modelfile"].get<std::string>().find("FROM ") != std::string::npos);
  EXPECT_EQ(j["model_info"]["general.architecture"], "llama");
  EXPECT_EQ(j["model_info"]["llama.embedding_length"], 128);
  EXPECT_TRUE(j["model_info"]["tokenizer.ggml.tokens"].is_array());
  http_post(url("/api/generate"), R"({"model":"tiny","prompt":"x","stream":false,"options":{"num_predict":1}})");
  auto ps = json::parse(http_get(url("/api/ps")).body);
  bool found = false;
  for (const auto& m : ps["models"]) {
    if (m["name"] != "tiny:latest") continue;
    found = true;
    EXPECT_GT(m["size"].get<int64_t>(), 0);
    EXPECT_TRUE(m.contains("expires_at"));
    EXPECT_EQ(m["slots_total"], 4);
    EXPECT_TRUE(m.contains("slots_in_use"));
    EXPECT_TRUE(m.contains("queued"));
    EXPECT_TRUE(m.contains("context_length"));
  }
  EXPECT_TRUE(found);
}

TEST_F(OllamaApi, Embeddings) {
  auto r = http_post(url("/api/embed"), R"({"model":"tiny","input":["hello","world"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  ASSERT_EQ(j["embeddings"].size(), 2u);
  EXPECT_EQ(j["embeddings"][0].size(), 128u);
  double norm = 0;
  for (double v : j["embeddings"][0]) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  auto legacy = http_post(url("/api/embeddings"), R"({"model":"tiny","prompt":"hello"})");
  ASSERT_EQ(legacy.status, 200);
  EXPECT_EQ(json::parse(legacy.body)["embedding"].size(), 128u);
}

}  // namespace
}  // namespace corral::testing
