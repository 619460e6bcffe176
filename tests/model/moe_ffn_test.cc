// Expert selection of the MoE FFN block: the top-k by router probability, ties to the lower
// expert, weights renormalized over the selected experts (what llama.cpp computes for qwen3moe).
#include <gtest/gtest.h>

#include "model/moe_ffn.h"

namespace corral::model {
namespace {

TEST(SelectExperts, TopKRenormalized) {
  const float probs[5] = {0.1f, 0.35f, 0.05f, 0.3f, 0.2f};
  int32_t ids[2];
  float w[2];
  select_experts(probs, 5, 2, ids, w);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[1], 3);
  EXPECT_FLOAT_EQ(w[0], 0.35f / 0.65f);
  EXPECT_FLOAT_EQ(w[1], 0.3f / 0.65f);
}

TEST(SelectExperts, TiesGoToTheLowerExpert) {
  const float probs[4] = {0.25f, 0.25f, 0.25f, 0.25f};
  int32_t ids[3];
  float w[3];
  select_experts(probs, 4, 3, ids, w);
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 1);
  EXPECT_EQ(ids[2], 2);
  for (float x : w) EXPECT_FLOAT_EQ(x, 1.0f / 3.0f);
}

TEST(SelectExperts, AllExpertsUsed) {
  const float probs[3] = {0.2f, 0.5f, 0.3f};
  int32_t ids[3];
  float w[3];
  select_experts(probs, 3, 3, ids, w);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[1], 2);
  EXPECT_EQ(ids[2], 0);
  EXPECT_NEAR(w[0] + w[1] + w[2], 1.0f, 1e-6f);
}

}  // namespace
}  // namespace corral::model
