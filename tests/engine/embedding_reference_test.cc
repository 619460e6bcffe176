// nomic-bert (an encoder) against ik_llama.cpp's embeddings in ../shared/reference-families
// ("embedding_cases"): every token's final hidden state and the mean-pooled vector, within the
// tolerances of ../shared/README-new-archs.md section 9; and an input's vector does not depend
// on which other inputs share its forward pass.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "common/test_data.h"
#include "engine/engine.h"
#include "engine/step_apply.h"
#include "model/model.h"

namespace corral {
namespace {

using nlohmann::json;

struct EmbeddingCase {
  std::string name;
  std::string model;  // relative to the data dir
  std::vector<int32_t> tokens;
  std::vector<float> pooled;      // [n_embd]
  std::vector<float> normalized;  // [n_embd]
  std::vector<float> per_token;   // [n_tokens][n_embd]
};

// Keeps gtest from hex-dumping the whole case in failure messages.
void PrintTo(const EmbeddingCase& c, std::ostream* os) { *os << c.name; }

std::vector<float> read_floats(const std::string& rel) {
  const std::string bytes = testing::read_file(testing::test_data_path(rel));
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::vector<EmbeddingCase> load_cases() {
  const std::string dir = "reference-families/";
  const json index = json::parse(testing::read_file(testing::test_data_path(dir + "index.json")));
  std::vector<EmbeddingCase> out;
  for (const json& e : index.at("embedding_cases")) {
    EmbeddingCase c;
    c.name = e.at("case").get<std::string>();
    c.model = e.at("model").get<std::string>();
    const json data = json::parse(testing::read_file(testing::test_data_path(dir + e.at("json").get<std::string>())));
    c.tokens = data.at("tokens").get<std::vector<int32_t>>();
    const std::vector<float> both = read_floats(dir + e.at("embedding").get<std::string>());  // [2][n_embd]
    const size_t d = both.size() / 2;
    c.pooled.assign(both.begin(), both.begin() + static_cast<long>(d));
    c.normalized.assign(both.begin() + static_cast<long>(d), both.end());
    c.per_token = read_floats(dir + e.at("token_embeddings").get<std::string>());
    out.push_back(std::move(c));
  }
  return out;
}

double nmse(const float* a, const float* ref, size_t n) {
  double e = 0, r = 0;
  for (size_t i = 0; i < n; ++i) {
    e += (static_cast<double>(a[i]) - ref[i]) * (static_cast<double>(a[i]) - ref[i]);
    r += static_cast<double>(ref[i]) * ref[i];
  }
  return e / r;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

std::shared_ptr<model::Model> load(const std::string& rel) {
  static std::map<std::string, std::shared_ptr<model::Model>> cache;
  auto& slot = cache[rel];
  if (!slot) {
    auto m = model::load_model(testing::test_data_path(rel));
    EXPECT_TRUE(m.is_ok()) << m.error();
    if (m) slot = m.value();
  }
  return slot;
}

// One step over several whole inputs; each input's rows of hidden states.
std::vector<std::vector<float>> encode(const std::shared_ptr<model::Model>& m,
                                       const std::vector<std::vector<int32_t>>& inputs) {
  engine::Engine eng(m, engine::EngineConfig{4096}, ThreadPool::global());
  std::vector<engine::SeqFeed> feeds;
  for (const auto& t : inputs) feeds.push_back({eng.kv().create(), t, engine::Outputs::kAll});
  std::vector<float> hidden;
  eng.eval(feeds, nullptr, &hidden);
  const int64_t E = m->config().n_embd;
  std::vector<std::vector<float>> out;
  size_t row = 0;
  for (const auto& t : inputs) {
    out.emplace_back(hidden.begin() + static_cast<long>(row * E),
                     hidden.begin() + static_cast<long>((row + t.size()) * E));
    row += t.size();
  }
  return out;
}

class EmbeddingReference : public ::testing::TestWithParam<EmbeddingCase> {};

TEST_P(EmbeddingReference, HiddenStatesAndPooledVectorMatchIkLlamaCpp) {
  const EmbeddingCase& c = GetParam();
  auto m = load(c.model);
  ASSERT_NE(m, nullptr);
  ASSERT_FALSE(m->config().causal);
  ASSERT_EQ(m->config().pooling, model::Pooling::kMean);
  const int64_t E = m->config().n_embd;
  ASSERT_EQ(c.pooled.size(), static_cast<size_t>(E));
  const bool f32 = c.model.find("-f32") != std::string::npos;
  // README-new-archs section 9: F32 within 1e-8 nMSE; Q8_0 pooled 2e-3 (cosine 0.999),
  // per token 5e-3.
  const double pooled_tol = f32 ? 1e-8 : 2e-3, token_tol = f32 ? 1e-8 : 5e-3, cos_tol = f32 ? 1 - 1e-8 : 0.999;

  const std::vector<float> hidden = encode(m, {c.tokens})[0];
  ASSERT_EQ(hidden.size(), c.per_token.size());
  double worst_token = 0;
  for (size_t i = 0; i < c.tokens.size(); ++i)
    worst_token =
        std::max(worst_token, nmse(hidden.data() + i * E, c.per_token.data() + i * E, static_cast<size_t>(E)));
  EXPECT_LE(nmse(hidden.data(), c.per_token.data(), hidden.size()), token_tol) << "per-token hidden states";

  std::vector<float> pooled =
      engine::pool_hidden(hidden.data(), static_cast<int64_t>(c.tokens.size()), E, m->config().pooling);
  const double pooled_nmse = nmse(pooled.data(), c.pooled.data(), pooled.size());
  const double cos = cosine(pooled, c.pooled);
  EXPECT_LE(pooled_nmse, pooled_tol) << "pooled";
  EXPECT_GE(cos, cos_tol) << "pooled cosine";
  engine::normalize(pooled);
  EXPECT_LE(nmse(pooled.data(), c.normalized.data(), pooled.size()), pooled_tol) << "normalized";
  std::printf("[metrics] %s pooled nmse %.3g cosine 1-%.3g worst token nmse %.3g\n", c.name.c_str(), pooled_nmse,
              1 - cos, worst_token);
}

// The five prompts of each file in one forward pass give exactly the vectors each gives alone.
TEST(EmbeddingBatchInvariance, AloneEqualsBatchedWithTheOthers) {
  std::map<std::string, std::vector<std::vector<int32_t>>> by_model;
  for (const EmbeddingCase& c : load_cases()) by_model[c.model].push_back(c.tokens);
  ASSERT_EQ(by_model.size(), 2u);
  for (const auto& [model, inputs] : by_model) {
    auto m = load(model);
    ASSERT_NE(m, nullptr);
    const auto together = encode(m, inputs);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto alone = encode(m, {inputs[i]})[0];
      EXPECT_EQ(alone, together[i]) << model << " input " << i;
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<EmbeddingCase>& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(NomicBert, EmbeddingReference, ::testing::ValuesIn(load_cases()), case_name);

}  // namespace
}  // namespace corral
