// OLLAMA_KV_CACHE_TYPE: parsing (Ollama's values) and a scheduler serving from F16, Q8_0 and
// Q4_0 caches, whose memory estimates count the bytes those caches really hold.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "common/test_data.h"
#include "scheduler/config.h"
#include "scheduler/scheduler.h"
#include "scheduler/serve_once.h"

namespace corral::scheduler {
namespace {

using namespace std::chrono_literals;

TEST(KvCacheType, ParsesOllamasValues) {
  EXPECT_EQ(parse_kv_cache_type("f32").value(), DType::kF32);
  EXPECT_EQ(parse_kv_cache_type("f16").value(), DType::kF16);
  EXPECT_EQ(parse_kv_cache_type("F16").value(), DType::kF16);
  EXPECT_EQ(parse_kv_cache_type("q8_0").value(), DType::kQ8_0);
  EXPECT_EQ(parse_kv_cache_type("Q4_0").value(), DType::kQ4_0);
  auto bad = parse_kv_cache_type("int3");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().find("OLLAMA_KV_CACHE_TYPE=int3"), std::string::npos) << bad.error();
}

TEST(KvCacheType, ReadFromTheEnvironment) {
  ::unsetenv("OLLAMA_KV_CACHE_TYPE");
  EXPECT_EQ(config_from_env().value().kv_cache_type, DType::kF32);
  ::setenv("OLLAMA_KV_CACHE_TYPE", "f16", 1);
  EXPECT_EQ(config_from_env().value().kv_cache_type, DType::kF16);
  ::setenv("OLLAMA_KV_CACHE_TYPE", "nonsense", 1);
  EXPECT_FALSE(config_from_env().is_ok());
  ::unsetenv("OLLAMA_KV_CACHE_TYPE");
}

std::pair<std::string, int64_t> serve_once(DType type, const char* model = "models/tinystories-656k-f32.gguf") {
  SchedulerConfig c;
  c.kv_cache_type = type;
  return serve_greedy_once(c, model);
}

TEST(KvCacheType, AnF16CacheServesAndNeedsLessMemory) {
  const auto [f32_text, f32_size] = serve_once(DType::kF32);
  const auto [f16_text, f16_size] = serve_once(DType::kF16);
  EXPECT_FALSE(f16_text.empty());
  // The KV part of the estimate: 2 slots x 512 positions (the model's trained context: the
  // 2048 asked for is capped there) x 2 layers x K and V x 64 dims.
  const int64_t kv_f32 = 2ll * 512 * 2 * 2 * 64 * 4;
  EXPECT_EQ(f32_size - f16_size, kv_f32 / 2);
  // tinystories' head_dim of 16 holds no 32-element block: a quantized request keeps f16.
  EXPECT_EQ(serve_once(DType::kQ8_0).second, f16_size);
}

TEST(KvCacheType, QuantizedCachesServeAndNeedTheirBlocksBytes) {
  // syn-llama (head_dim 32: one block per row): 2 slots x 2048 positions x 4 layers x K and V
  // x 2 KV heads of 32 dims; a row of 32 takes 128 bytes in f32, 34 in q8_0, 18 in q4_0.
  const char* model = "models/synthetic/syn-llama-q8_0.gguf";
  const auto [f32_text, f32_size] = serve_once(DType::kF32, model);
  const auto [q8_text, q8_size] = serve_once(DType::kQ8_0, model);
  const auto [q4_text, q4_size] = serve_once(DType::kQ4_0, model);
  EXPECT_FALSE(q8_text.empty());
  EXPECT_FALSE(q4_text.empty());
  const int64_t rows = 2ll * 2048 * 4 * 2 * 2;
  EXPECT_EQ(f32_size - q8_size, rows * (128 - 34));
  EXPECT_EQ(f32_size - q4_size, rows * (128 - 18));
}

}  // namespace
}  // namespace corral::scheduler
