// An F16 KV cache (OLLAMA_KV_CACHE_TYPE=f16) holds the same sequences in half the memory; its
// logits stay within ../shared/README.md's tolerances of the exact F32 cache's (llama.cpp
// measured f16 vs f32 KV at up to 7e-7 nMSE on F32 models, where the F16 tolerance is 1e-5, and
// 1.7e-3 on quantized ones, whose activation rounding amplifies the difference, where the
// tolerance is 5e-3), and sequences sharing a batch still do not affect each other.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/thread_pool.h"
#include "common/test_data.h"
#include "engine/engine.h"
#include "model/model.h"

namespace corral::engine {
namespace {

double nmse(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0, s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    e += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    s += static_cast<double>(b[i]) * b[i];
  }
  return e / s;
}

std::vector<int32_t> tokens(int n, int seed, int64_t vocab) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(static_cast<int32_t>((seed * 7919 + i * 104729) % (vocab - 3) + 3));
  return t;
}

// Logits of every prompt position, then of 16 decode steps fed fixed tokens (teacher-forced:
// a free-running greedy run may take another branch at a near-tie, and then nothing compares).
std::vector<float> run(const std::shared_ptr<const model::Model>& m, DType kv_type,
                       const std::vector<int32_t>& prompt) {
  Engine eng(m, EngineConfig{1024, kv_type}, ThreadPool::global());
  SeqId s = eng.kv().create();
  std::vector<float> all, logits;
  eng.eval({{s, prompt, Outputs::kAll}}, &logits);
  all = logits;
  for (int32_t next : tokens(16, 77, m->config().n_vocab)) {
    eng.eval({{s, {next}, Outputs::kLast}}, &logits);
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

class KvF16 : public ::testing::TestWithParam<const char*> {};

TEST_P(KvF16, LogitsStayWithinTheF16ToleranceOfTheF32Cache) {
  auto m = model::load_model(testing::test_data_path(GetParam()));
  ASSERT_TRUE(m.is_ok()) << m.error();
  const auto prompt = tokens(40, 3, m.value()->config().n_vocab);
  const std::vector<float> f32 = run(m.value(), DType::kF32, prompt);
  const std::vector<float> f16 = run(m.value(), DType::kF16, prompt);
  ASSERT_EQ(f32.size(), f16.size());
  const double e = nmse(f16, f32);
  const bool quantized = std::string(GetParam()).find("q8_0") != std::string::npos;
  EXPECT_LE(e, quantized ? 5e-3 : 1e-5);
  EXPECT_GT(e, 0.0) << "the F16 cache should round K and V";
}

TEST_P(KvF16, HalfTheBytesOfF32) {
  auto m = model::load_model(testing::test_data_path(GetParam()));
  ASSERT_TRUE(m.is_ok()) << m.error();
  KvCache f32(*m.value(), 256, DType::kF32), f16(*m.value(), 256, DType::kF16);
  EXPECT_EQ(f16.block_bytes() * 2, f32.block_bytes());
  EXPECT_EQ(m.value()->kv_bytes_per_token(DType::kF16) * 2, m.value()->kv_bytes_per_token(DType::kF32));
}

TEST_P(KvF16, ASequenceGivesTheSameLogitsAloneAndBatched) {
  auto m = model::load_model(testing::test_data_path(GetParam()));
  ASSERT_TRUE(m.is_ok()) << m.error();
  const int64_t V = m.value()->config().n_vocab;
  const auto prompt = tokens(23, 5, V);
  std::vector<float> alone;
  {
    Engine eng(m.value(), EngineConfig{1024, DType::kF16}, ThreadPool::global());
    SeqId s = eng.kv().create();
    eng.eval({{s, prompt, Outputs::kLast}}, &alone);
  }
  Engine eng(m.value(), EngineConfig{1024, DType::kF16}, ThreadPool::global());
  SeqId a = eng.kv().create(), b = eng.kv().create();
  std::vector<float> logits;
  // Another sequence first, at other positions; then ours together with its next chunk.
  eng.eval({{b, tokens(30, 9, V), Outputs::kLast}}, &logits);
  eng.eval({{b, tokens(7, 11, V), Outputs::kLast}, {a, prompt, Outputs::kLast}}, &logits);
  ASSERT_EQ(logits.size(), static_cast<size_t>(2 * V));
  const std::vector<float> ours(logits.begin() + V, logits.end());
  EXPECT_LE(nmse(ours, alone), 1e-10);
}

INSTANTIATE_TEST_SUITE_P(Models, KvF16,
                         ::testing::Values("models/stories260K.gguf", "models/tinystories-656k-f32.gguf",
                                           "models/synthetic/syn-qwen2-q8_0.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           n = n.substr(n.rfind('/') + 1);
                           n = n.substr(0, n.find('.'));
                           std::replace_if(
                               n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
                               '_');
                           return n;
                         });

}  // namespace
}  // namespace corral::engine
