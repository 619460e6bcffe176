// What a loaded model does when its name changes under it, against the real server: a create,
// copy or delete that changes what a name points to makes the next request use the new model
// (/api/ps shows its digest), the old runner unloads once its last request is done, and a
// request already streaming on the old weights finishes normally.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::vector<json> ndjson(const std::string& body) {
  std::vector<json> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

class ModelLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("corral-lifecycle-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store::Store s(dir_);
    // Two models with different weights and vocabularies: their greedy texts differ.
    const std::pair<const char*, const char*> models[] = {
        {"a", "models/stories260K.gguf"},
        {"b", "models/tinystories-656k-f32.gguf"},
        // Random weights: it practically never ends a text by itself, so a stream lasts.
        {"long", "models/llama-2-tiny-random.gguf"}};
    for (const auto& [name, rel] : models) {
      auto mf = store::parse_modelfile("FROM " + test_data_path(rel) + "\n");
      ASSERT_TRUE(mf.is_ok()) << mf.error();
      auto r = store::create_model(s, name, *mf, fixture_create_options());
      ASSERT_TRUE(r.is_ok()) << name << ": " << r.error();
    }
    server_ = ServerProcess::start(dir_, {{"OLLAMA_NUM_PARALLEL", "2"}});
    ASSERT_TRUE(server_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string url(const std::string& p) const { return server_->url(p); }

  // Greedy, seeded: the same model gives the same text every time.
  HttpResponse generate_raw(const std::string& model, int num_predict = 12) {
    json req{{"model", model},
             {"prompt", "Once upon a time"},
             {"stream", false},
             {"options", {{"temperature", 0}, {"seed", 42}, {"num_predict", num_predict}}}};
    return http_post(url("/api/generate"), req.dump());
  }
  std::string generate(const std::string& model) {
    auto r = generate_raw(model);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).value("response", "") : "";
  }
  void create_from(const std::string& name, const std::string& from, json params = nullptr) {
    json req{{"model", name}, {"from", from}, {"stream", false}};
    if (!params.is_null()) req["parameters"] = params;
    auto r = http_post(url("/api/create"), req.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string tags_digest(const std::string& name) {
    const json tags = json::parse(http_get(url("/api/tags")).body);  // outlives the loop
    for (const json& m : tags["models"])
      if (m["name"] == name) return m["digest"];
    return "";
  }
  std::vector<json> ps(const std::string& name) {
    std::vector<json> out;
    const json loaded = json::parse(http_get(url("/api/ps")).body);  // outlives the loop
    for (const json& m : loaded["models"])
      if (m["name"] == name) out.push_back(m);
    return out;
  }
  // The retired runner goes away when it notices it is idle: give it a moment.
  std::vector<json> ps_settled(const std::string& name, size_t want) {
    const auto until = Clock::now() + std::chrono::seconds(10);
    std::vector<json> got = ps(name);
    while (got.size() != want && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      got = ps(name);
    }
    return got;
  }

  fs::path dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ModelLifecycle, ReCreatingANameServesTheNewWeights) {
  const std::string text_a = generate("a"), text_b = generate("b");
  ASSERT_NE(text_a, text_b);
  create_from("m", "a");
  EXPECT_EQ(generate("m"), text_a);
  const std::string digest_a = tags_digest("m:latest");
  ASSERT_EQ(ps("m:latest").size(), 1u);
  EXPECT_EQ(ps("m:latest")[0]["digest"], digest_a);

  create_from("m", "b");
  const std::string digest_b = tags_digest("m:latest");
  ASSERT_NE(digest_a, digest_b);
  EXPECT_EQ(generate("m"), text_b) << "the old weights still answer";
  auto loaded = ps_settled("m:latest", 1);
  ASSERT_EQ(loaded.size(), 1u) << "the replaced runner stays loaded";
  EXPECT_EQ(loaded[0]["digest"], digest_b);
  EXPECT_EQ(generate("m"), text_b);
}

TEST_F(ModelLifecycle, CopyingOverANameServesTheCopy) {
  const std::string text_a = generate("a"), text_b = generate("b");
  create_from("m", "a");
  EXPECT_EQ(generate("m"), text_a);
  auto r = http_post(url("/api/copy"), json{{"source", "b"}, {"destination", "m"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(generate("m"), text_b);
  auto loaded = ps_settled("m:latest", 1);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0]["digest"], tags_digest("b:latest"));
}

TEST_F(ModelLifecycle, ADeletedModelIsUnloadedAndNotFound) {
  create_from("m", "a");
  generate("m");
  ASSERT_EQ(ps("m:latest").size(), 1u);
  auto r = http_request("DELETE", url("/api/delete"), json{{"model", "m"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(generate_raw("m").status, 404);
  EXPECT_TRUE(ps("m:latest").empty()) << "a deleted model stays loaded";
  // The other models are untouched, and the name can be created again.
  EXPECT_FALSE(generate("a").empty());
  create_from("m", "b");
  EXPECT_EQ(generate("m"), generate("b"));
}

TEST_F(ModelLifecycle, AStreamOnTheOldWeightsFinishesWhileTheNewOnesServe) {
  // A long context so that the stream is still running while the name is replaced (the
  // model's whole trained context, 4096: a larger num_ctx would be capped there).
  constexpr int kLong = 4000;
  create_from("m", "long", json{{"num_ctx", 4096}});
  const std::string text_b = generate("b");
  std::atomic<bool> started{false};
  Clock::time_point stream_end;
  auto stream = std::async(std::launch::async, [&] {
    json req{{"model", "m"},
             {"prompt", "Once upon a time"},
             {"options", {{"temperature", 0}, {"seed", 42}, {"num_predict", kLong}}}};
    auto r = http_request("POST", url("/api/generate"), req.dump(), [&](const std::string&) {
      started.store(true);
      return true;
    });
    stream_end = Clock::now();
    return r;
  });
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (!started.load() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(started.load());

  create_from("m", "b");
  EXPECT_EQ(generate("m"), text_b);
  const auto replaced_served = Clock::now();
  // While the old stream runs, both runners are loaded; the old one with its old digest.
  const size_t during = ps("m:latest").size();

  HttpResponse r = stream.get();
  ASSERT_EQ(r.status, 200);
  auto records = ndjson(r.body);
  ASSERT_FALSE(records.empty());
  const json& last = records.back();
  EXPECT_FALSE(last.contains("error")) << last.dump();
  EXPECT_EQ(last.value("done", false), true) << last.dump();
  EXPECT_EQ(last.value("done_reason", ""), "length");
  EXPECT_EQ(last.value("eval_count", 0), kLong);
  ASSERT_LT(replaced_served, stream_end) << "the stream ended before the replace: make it longer";
  EXPECT_EQ(during, 2u);

  auto loaded = ps_settled("m:latest", 1);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0]["digest"], tags_digest("m:latest"));
}

}  // namespace
}  // namespace corral::testing
