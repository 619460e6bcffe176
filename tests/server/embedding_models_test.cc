// An embedding-only model (syn-nomic-bert, a nomic-bert encoder) served by `corral serve`:
// /api/embed, /api/embeddings and /v1/embeddings answer with ik_llama.cpp's mean-pooled
// vectors (L2-normalised where Ollama normalises), also for requests that arrive together and
// share forward passes; `truncate` and `dimensions` behave as in Ollama; /api/show lists only
// "embedding", and text endpoints refuse the model with Ollama's 400.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kModel = "syn-nomic";
const char* const kPrompts[] = {"once", "fox", "code", "unicode", "paragraph"};

struct Reference {
  std::string prompt;
  size_t n_tokens = 0;
  std::vector<float> pooled;      // [n_embd] raw mean
  std::vector<float> normalized;  // [n_embd]
};

Reference reference(const std::string& prompt_id) {
  const std::string base = "reference-families/syn-nomic-bert-f32__" + prompt_id;
  const json c = json::parse(read_file(test_data_path(base + ".json")));
  const std::string bytes = read_file(test_data_path(base + ".embedding.f32"));  // [2][n_embd]
  std::vector<float> both(bytes.size() / sizeof(float));
  std::memcpy(both.data(), bytes.data(), both.size() * sizeof(float));
  const auto half = static_cast<long>(both.size() / 2);
  return Reference{c.at("prompt").get<std::string>(), c.at("tokens").size(),
                   std::vector<float>(both.begin(), both.begin() + half),
                   std::vector<float>(both.begin() + half, both.end())};
}

double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size()) return 1e9;
  double e = 0, r = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    e += (static_cast<double>(got[i]) - ref[i]) * (static_cast<double>(got[i]) - ref[i]);
    r += static_cast<double>(ref[i]) * ref[i];
  }
  return e / r;
}

// The F32 file within README-new-archs section 9's F32 tolerance.
constexpr double kTolerance = 1e-8;

class EmbeddingModels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new std::string(std::filesystem::temp_directory_path() / ("corral-embed-models-" + std::to_string(getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    store::Store s(*dir_);
    auto mf = store::parse_modelfile("FROM " + test_data_path("models/synthetic/syn-nomic-bert-f32.gguf") + "\n");
    ASSERT_TRUE(mf.is_ok()) << mf.error();
    auto r = store::create_model(s, kModel, *mf, fixture_create_options());
    ASSERT_TRUE(r.is_ok()) << r.error();
    server_ = ServerProcess::start(*dir_, {{"OLLAMA_NUM_PARALLEL", "4"}}).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static HttpResponse post(const std::string& path, const json& body) {
    return http_post(server_->url(path), body.dump());
  }
  static std::string* dir_;
  static ServerProcess* server_;
};
std::string* EmbeddingModels::dir_ = nullptr;
ServerProcess* EmbeddingModels::server_ = nullptr;

TEST_F(EmbeddingModels, ShowListsOnlyTheEmbeddingCapability) {
  ASSERT_NE(server_, nullptr);
  auto r = post("/api/show", {{"model", kModel}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("capabilities"), json::array({"embedding"}));
}

// Eight clients at once, four slots: the inputs share forward passes, and each vector is still
// the one ik_llama.cpp computed for that input alone.
TEST_F(EmbeddingModels, ConcurrentEmbedRequestsGetTheReferenceVectors) {
  ASSERT_NE(server_, nullptr);
  constexpr int kClients = 8;
  std::vector<HttpResponse> responses(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      const Reference ref = reference(kPrompts[i % 5]);
      responses[i] = post("/api/embed", {{"model", kModel}, {"input", ref.prompt}});
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) {
    SCOPED_TRACE(kPrompts[i % 5]);
    ASSERT_EQ(responses[i].status, 200) << responses[i].body << "\n" << server_->log();
    const json j = json::parse(responses[i].body);
    const Reference ref = reference(kPrompts[i % 5]);
    EXPECT_EQ(j.at("model"), kModel);
    EXPECT_EQ(j.at("prompt_eval_count").get<size_t>(), ref.n_tokens);
    ASSERT_EQ(j.at("embeddings").size(), 1u);
    EXPECT_LE(nmse(j.at("embeddings")[0].get<std::vector<float>>(), ref.normalized), kTolerance);
  }
  // An encoder keeps nothing in the KV cache once its inputs are done (no cached prefixes).
  int64_t kv_tokens = -1;
  for (int tries = 0; tries < 100 && kv_tokens != 0; ++tries) {
    if (tries) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const json ps = json::parse(http_get(server_->url("/api/ps")).body);
    ASSERT_FALSE(ps.at("models").empty()) << ps.dump();
    kv_tokens = 0;
    for (const json& m : ps["models"]) kv_tokens += m.at("kv_cache_tokens").get<int64_t>();
  }
  EXPECT_EQ(kv_tokens, 0);
}

TEST_F(EmbeddingModels, ManyInputsInOneRequestAndEveryEndpoint) {
  ASSERT_NE(server_, nullptr);
  json inputs = json::array();
  for (const char* p : kPrompts) inputs.push_back(reference(p).prompt);
  auto r = post("/api/embed", {{"model", kModel}, {"input", inputs}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json embed = json::parse(r.body);
  ASSERT_EQ(embed.at("embeddings").size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_LE(nmse(embed["embeddings"][i].get<std::vector<float>>(), reference(kPrompts[i]).normalized), kTolerance)
        << kPrompts[i];

  // The legacy endpoint returns the raw pooled vector (Ollama does not normalise it).
  const Reference fox = reference("fox");
  r = post("/api/embeddings", {{"model", kModel}, {"prompt", fox.prompt}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_LE(nmse(json::parse(r.body).at("embedding").get<std::vector<float>>(), fox.pooled), kTolerance);

  r = post("/v1/embeddings", {{"model", kModel}, {"input", json::array({fox.prompt, reference("code").prompt})}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json oa = json::parse(r.body);
  ASSERT_EQ(oa.at("data").size(), 2u);
  EXPECT_LE(nmse(oa["data"][0].at("embedding").get<std::vector<float>>(), fox.normalized), kTolerance);
  EXPECT_LE(nmse(oa["data"][1].at("embedding").get<std::vector<float>>(), reference("code").normalized), kTolerance);
}

TEST_F(EmbeddingModels, DimensionsKeepsAPrefixNormalisedAgain) {
  ASSERT_NE(server_, nullptr);
  const Reference fox = reference("fox");
  auto r = post("/api/embed", {{"model", kModel}, {"input", fox.prompt}, {"dimensions", 16}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto v = json::parse(r.body).at("embeddings")[0].get<std::vector<float>>();
  ASSERT_EQ(v.size(), 16u);
  std::vector<float> want(fox.normalized.begin(), fox.normalized.begin() + 16);
  double norm = 0;
  for (float x : want) norm += static_cast<double>(x) * x;
  for (float& x : want) x = static_cast<float>(x / std::sqrt(norm));
  EXPECT_LE(nmse(v, want), kTolerance);
}

// Over the context: truncate false is Ollama's 400; truncate (the default) embeds the input cut
// to the context, its closing [SEP] kept.
TEST_F(EmbeddingModels, TruncateCutsToTheContextOrRefuses) {
  ASSERT_NE(server_, nullptr);
  const Reference para = reference("paragraph");  // 193 tokens
  const json opts = {{"num_ctx", 64}};
  auto r = post("/api/embed", {{"model", kModel}, {"input", para.prompt}, {"truncate", false}, {"options", opts}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body).value("error", ""), "the input length exceeds the context length");

  r = post("/api/embed", {{"model", kModel}, {"input", para.prompt}, {"options", opts}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j.at("prompt_eval_count"), 64);
  const auto v = j.at("embeddings")[0].get<std::vector<float>>();
  ASSERT_EQ(v.size(), para.normalized.size());
  EXPECT_GT(nmse(v, para.normalized), 1e-4);  // a different (shorter) input
}

TEST_F(EmbeddingModels, TextEndpointsRefuseAnEmbeddingModel) {
  ASSERT_NE(server_, nullptr);
  auto r = post("/api/generate", {{"model", kModel}, {"prompt", "hi"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body).value("error", ""), "\"syn-nomic\" does not support generate");
  r = post("/api/chat", {{"model", kModel}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body).value("error", ""), "\"syn-nomic\" does not support chat");
  r = post("/v1/chat/completions", {{"model", kModel}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(r.status, 400) << r.body;
  // The model still embeds afterwards.
  r = post("/api/embed", {{"model", kModel}, {"input", "hi"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace corral::testing
