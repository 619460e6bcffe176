// Where a loaded model's weights live: a resident copy on huge pages (the default) or the file
// mapping (CORRAL_MMAP=1). Both serve the same tokens.
#include <gtest/gtest.h>

#include <cstdlib>

#include "scheduler/config.h"
#include "scheduler/serve_once.h"

namespace corral::scheduler {
namespace {

TEST(WeightPlacement, ReadFromTheEnvironment) {
  ::unsetenv("CORRAL_MMAP");
  EXPECT_FALSE(config_from_env().value().mmap_weights);
  ::setenv("CORRAL_MMAP", "1", 1);
  EXPECT_TRUE(config_from_env().value().mmap_weights);
  ::setenv("CORRAL_MMAP", "0", 1);
  EXPECT_FALSE(config_from_env().value().mmap_weights);
  ::setenv("CORRAL_MMAP", "yes", 1);
  auto bad = config_from_env();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().find("CORRAL_MMAP=yes"), std::string::npos) << bad.error();
  ::unsetenv("CORRAL_MMAP");
}

TEST(WeightPlacement, ResidentAndMappedWeightsServeTheSameTokens) {
  for (const char* model : {"models/tinystories-656k-f32.gguf", "models/synthetic/syn-llama-q4_k_m.gguf"}) {
    SCOPED_TRACE(model);
    SchedulerConfig resident, mapped;
    mapped.mmap_weights = true;
    const auto [resident_text, resident_size] = serve_greedy_once(resident, model);
    const auto [mapped_text, mapped_size] = serve_greedy_once(mapped, model);
    EXPECT_FALSE(resident_text.empty());
    EXPECT_EQ(resident_text, mapped_text);
    EXPECT_EQ(resident_size, mapped_size);
  }
}

}  // namespace
}  // namespace corral::scheduler
