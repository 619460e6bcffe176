// Rotary embeddings with YaRN scaling against hand computations of ggml's formulas
// (rope_yarn, ggml_rope_yarn_corr_dims), and the YaRN settings read from a gpt-oss file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/test_data.h"
#include "model/model.h"
#include "model/registry.h"
#include "model/rope.h"

namespace corral::model {
namespace {

// gpt-oss's released settings: 64 rotated dims, base 150000, factor 32 over 4096 positions.
constexpr int64_t kRot = 64;
constexpr float kBase = 150000.0f;

TEST(Yarn, CorrectionRangeIsFlooredAndCeiled) {
  // cd(b) = 64 ln(4096 / (2 pi b)) / (2 ln 150000): cd(32) = 8.09 -> 8, cd(1) = 17.40 -> 18.
  const YarnParams y = yarn_params(kRot, 4096, kBase, 1.0f, 32.0f, 1.0f);
  EXPECT_EQ(y.ext_factor, 1.0f);
  EXPECT_EQ(y.corr_low, 8.0f);
  EXPECT_EQ(y.corr_high, 18.0f);
  // Clamped to [0, n_rot - 1]: a tiny original context puts the fast end below 0, a huge one
  // the slow end beyond the last dim.
  EXPECT_EQ(yarn_params(kRot, 16, kBase, 1.0f, 32.0f, 1.0f).corr_low, 0.0f);
  EXPECT_EQ(yarn_params(kRot, int64_t{1} << 40, kBase, 1.0f, 32.0f, 1.0f).corr_high, 63.0f);
}

// The (cos, sin) of pair j at position pos, computed in double from the formula.
std::pair<double, double> expected_angle(int64_t pos, int64_t j, double freq_scale, double low, double high) {
  const double extrap = static_cast<double>(pos) * std::pow(static_cast<double>(kBase), -2.0 * j / kRot);
  const double ramp = 1.0 - std::clamp((j - low) / std::max(0.001, high - low), 0.0, 1.0);
  const double angle = extrap * freq_scale * (1 - ramp) + extrap * ramp;
  const double mscale = 1.0 + 0.1 * std::log(1.0 / freq_scale);
  return {std::cos(angle) * mscale, std::sin(angle) * mscale};
}

TEST(Yarn, AnglesBlendInterpolationAndExtrapolationOverTheRamp) {
  RopeParams p{kBase, 1.0f / 32.0f, 1.0f, yarn_params(kRot, 4096, kBase, 1.0f, 32.0f, 1.0f)};
  float cs[kRot];
  for (int64_t pos : {0, 1, 37, 300}) {
    rope_angles(pos, p, kRot, nullptr, cs);
    // Pairs below the ramp (extrapolated: the plain angle), on it, and above (interpolated).
    for (int64_t j : {0, 5, 8, 9, 13, 17, 18, 25, 31}) {
      const auto [c, s] = expected_angle(pos, j, 1.0 / 32, 8, 18);
      // Float angles built by repeated multiplication drift by ~1e-7 relative per step.
      EXPECT_NEAR(cs[2 * j], c, 2e-4) << "pos " << pos << " pair " << j;
      EXPECT_NEAR(cs[2 * j + 1], s, 2e-4) << "pos " << pos << " pair " << j;
    }
  }
  // Position 0: every angle is 0, so cos is the magnitude 1 + 0.1 ln 32 = 1.34657 everywhere.
  rope_angles(0, p, kRot, nullptr, cs);
  for (int64_t j = 0; j < kRot / 2; ++j) {
    EXPECT_NEAR(cs[2 * j], 1.0 + 0.1 * std::log(32.0), 1e-6);
    EXPECT_EQ(cs[2 * j + 1], 0.0f);
  }
  // Pair 13 sits halfway up the ramp [8, 18]: the angle is the mean of theta and theta / 32.
  rope_angles(1, p, kRot, nullptr, cs);
  const double theta13 = std::pow(static_cast<double>(kBase), -26.0 / 64);
  EXPECT_NEAR(std::atan2(cs[27], cs[26]), 0.5 * theta13 + 0.5 * theta13 / 32, 1e-6);
}

TEST(Yarn, OffMeansPlainLinearScalingWithoutMagnitude) {
  const RopeParams p{kBase, 0.25f, 1.0f, YarnParams{}};
  float cs[kRot];
  rope_angles(10, p, kRot, nullptr, cs);
  for (int64_t j : {0, 10, 31}) {
    const double angle = 10 * 0.25 * std::pow(static_cast<double>(kBase), -2.0 * j / kRot);
    EXPECT_NEAR(cs[2 * j], std::cos(angle), 1e-5);
    EXPECT_NEAR(cs[2 * j + 1], std::sin(angle), 1e-5);
  }
}

TEST(Yarn, ReadFromGptOssFile) {
  auto m = load_model(testing::test_data_path("models/synthetic/syn-gptoss-f32.gguf"));
  ASSERT_TRUE(m.is_ok()) << m.error();
  const ModelConfig& c = m.value()->config();
  EXPECT_FLOAT_EQ(c.rope_freq_scale, 1.0f / 32.0f);
  EXPECT_EQ(c.rope_yarn.ext_factor, 1.0f);
  EXPECT_EQ(c.rope_yarn.corr_low, 8.0f);
  EXPECT_EQ(c.rope_yarn.corr_high, 18.0f);
  EXPECT_FLOAT_EQ(c.attn_scale, 0.125f);  // 1/sqrt(rope.dimension_count)
  // Sliding window on even layers only.
  ASSERT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.window_of_layer(0), 32);
  EXPECT_EQ(c.window_of_layer(1), 0);
}

}  // namespace
}  // namespace corral::model
