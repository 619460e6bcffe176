// Expert selection of the MoE FFN block: the top-k by router probability, ties to the lower
// expert, weights renormalized over the selected experts (what llama.cpp computes for qwen3moe);
// or gpt-oss's top-k of the raw logits with a softmax over just those; and gpt-oss's clamped
// SwiGLU.
#include <gtest/gtest.h>

#include <cmath>

#include "model/ffn_activation.h"
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

TEST(SelectExpertsSoftmaxAfterTopK, SoftmaxOverTheSelectedLogitsOnly) {
  const float logits[4] = {1.0f, 3.0f, 2.0f, 0.5f};
  int32_t ids[2];
  float w[2];
  select_experts_softmax_after_topk(logits, 4, 2, ids, w);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[1], 2);
  // softmax(3, 2) = (1, e^-1) / (1 + e^-1); a softmax over all four would give 0.63 and 0.23.
  EXPECT_NEAR(w[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(w[1], std::exp(-1.0) / (1.0 + std::exp(-1.0)), 1e-6);
}

TEST(SelectExpertsSoftmaxAfterTopK, NegativeLogitsAndTies) {
  const float logits[4] = {-2.0f, -1.0f, -1.0f, -5.0f};
  int32_t ids[3];
  float w[3];
  select_experts_softmax_after_topk(logits, 4, 3, ids, w);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[1], 2);
  EXPECT_EQ(ids[2], 0);
  const double z = 2.0 + std::exp(-1.0);
  EXPECT_NEAR(w[0], 1.0 / z, 1e-6);
  EXPECT_NEAR(w[1], 1.0 / z, 1e-6);
  EXPECT_NEAR(w[2], std::exp(-1.0) / z, 1e-6);
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(SwigluClamped, ClampsGateAboveAndUpBothWays) {
  const float gate[5] = {10.0f, -1.0f, 0.5f, 7.0f, -30.0f};
  const float up[5] = {10.0f, -9.0f, 0.2f, -7.5f, 3.0f};
  float out[5];
  swiglu_clamped(gate, up, out, 5, 1.702f, 7.0f);
  EXPECT_NEAR(out[0], 7.0 * sigmoid(1.702 * 7.0) * 8.0, 1e-4);      // g 10 -> 7, u 10 -> 7
  EXPECT_NEAR(out[1], -1.0 * sigmoid(-1.702) * -6.0, 1e-6);         // u -9 -> -7
  EXPECT_NEAR(out[2], 0.5 * sigmoid(1.702 * 0.5) * 1.2, 1e-6);      // inside the limits
  EXPECT_NEAR(out[3], 7.0 * sigmoid(1.702 * 7.0) * -6.0, 1e-4);     // u -7.5 -> -7
  EXPECT_NEAR(out[4], -30.0 * sigmoid(-1.702 * 30.0) * 4.0, 1e-6);  // no lower clamp on the gate
  // Through the dispatcher, in place.
  float g2[5] = {10.0f, -1.0f, 0.5f, 7.0f, -30.0f};
  gated_activation(FfnActivation::kSwigluClamped, g2, up, g2, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g2[i], out[i]);
}

}  // namespace
}  // namespace corral::model
