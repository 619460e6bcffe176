// Q8_0 and Q4_0 KV caches (OLLAMA_KV_CACHE_TYPE=q8_0 / q4_0): K and V rows stored in llama.cpp's
// 32-element blocks, read directly by the attention kernels. A block costs what its rows'
// quantization blocks cost (34 and 18 bytes per 32 elements against f32's 128), a head_dim
// that holds no whole block keeps f16, and a sequence's logits do not depend on what else is
// in its batch. (Logit drift against llama.cpp's references: kv_quant_reference_test.cc.)
#include <gtest/gtest.h>

#include "base/thread_pool.h"
#include "common/test_data.h"
#include "engine/engine.h"
#include "model/model.h"

namespace corral::engine {
namespace {

std::vector<int32_t> tokens(int n, int seed, int64_t vocab) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(static_cast<int32_t>((seed * 7919 + i * 104729) % (vocab - 3) + 3));
  return t;
}

std::shared_ptr<const model::Model> load(const char* path) {
  auto m = model::load_model(testing::test_data_path(path));
  EXPECT_TRUE(m.is_ok()) << m.error();
  return m ? m.value() : nullptr;
}

TEST(KvQuant, BlocksHoldTheirQuantizationBlocksBytes) {
  auto m = load("models/synthetic/syn-llama-q8_0.gguf");  // head_dim 32: one block per row
  ASSERT_NE(m, nullptr);
  KvCache f32(*m, 256, DType::kF32), q8(*m, 256, DType::kQ8_0), q4(*m, 256, DType::kQ4_0);
  EXPECT_EQ(q8.storage().type(), DType::kQ8_0);
  EXPECT_EQ(q4.storage().type(), DType::kQ4_0);
  EXPECT_EQ(q8.block_bytes() * 128, f32.block_bytes() * 34);
  EXPECT_EQ(q4.block_bytes() * 128, f32.block_bytes() * 18);
  EXPECT_EQ(m->kv_bytes_per_token(DType::kQ8_0) * 128, m->kv_bytes_per_token(DType::kF32) * 34);
  EXPECT_EQ(kv_capacity_bytes(*m, KvSizing{256}, DType::kQ4_0), q4.capacity_bytes());
  EXPECT_EQ(kv_capacity_bytes(*m, KvSizing{256}, DType::kQ8_0), q8.capacity_bytes());
}

TEST(KvQuant, AHeadDimWithoutWholeBlocksKeepsF16) {
  auto m = load("models/stories260K.gguf");  // head_dim 8
  ASSERT_NE(m, nullptr);
  KvCache q8(*m, 256, DType::kQ8_0), f16(*m, 256, DType::kF16);
  EXPECT_EQ(q8.storage().type(), DType::kF16);
  EXPECT_EQ(q8.block_bytes(), f16.block_bytes());
  EXPECT_EQ(kv_capacity_bytes(*m, KvSizing{256}, DType::kQ4_0), f16.capacity_bytes());
}

class KvQuantTypes : public ::testing::TestWithParam<DType> {};

TEST_P(KvQuantTypes, ASequenceGivesTheSameLogitsAloneAndBatched) {
  auto m = load("models/synthetic/syn-llama-q8_0.gguf");
  ASSERT_NE(m, nullptr);
  const int64_t V = m->config().n_vocab;
  const auto prompt = tokens(40, 5, V);
  std::vector<float> alone;
  {
    Engine eng(m, EngineConfig{1024, GetParam()}, ThreadPool::global());
    SeqId s = eng.kv().create();
    eng.eval({{s, prompt, Outputs::kLast}}, &alone);
  }
  Engine eng(m, EngineConfig{1024, GetParam()}, ThreadPool::global());
  SeqId a = eng.kv().create(), b = eng.kv().create();
  std::vector<float> logits;
  // Another sequence first, at other positions; then ours together with its next chunk.
  eng.eval({{b, tokens(30, 9, V), Outputs::kLast}}, &logits);
  eng.eval({{b, tokens(7, 11, V), Outputs::kLast}, {a, prompt, Outputs::kLast}}, &logits);
  ASSERT_EQ(logits.size(), static_cast<size_t>(2 * V));
  for (int64_t i = 0; i < V; ++i) ASSERT_EQ(logits[V + i], alone[i]) << i;
}

TEST_P(KvQuantTypes, DecodingStepByStepMatchesOnePass) {
  // The cache's rows are encoded one position at a time, so a prompt fed in one pass and one
  // token per step leaves the same bytes and gives the same last logits.
  auto m = load("models/synthetic/syn-llama-q8_0.gguf");
  ASSERT_NE(m, nullptr);
  const auto prompt = tokens(35, 3, m->config().n_vocab);
  std::vector<float> one_pass, stepped;
  {
    Engine eng(m, EngineConfig{1024, GetParam()}, ThreadPool::global());
    SeqId s = eng.kv().create();
    eng.eval({{s, prompt, Outputs::kLast}}, &one_pass);
  }
  Engine eng(m, EngineConfig{1024, GetParam()}, ThreadPool::global());
  SeqId s = eng.kv().create();
  for (int32_t t : prompt) eng.eval({{s, {t}, Outputs::kLast}}, &stepped);
  ASSERT_EQ(one_pass.size(), stepped.size());
  for (size_t i = 0; i < one_pass.size(); ++i) ASSERT_EQ(one_pass[i], stepped[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(Types, KvQuantTypes, ::testing::Values(DType::kQ8_0, DType::kQ4_0),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace corral::engine
