#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace corral::model {

void rope_angles(int64_t pos, const RopeParams& p, int64_t n_rot, const float* freq_factors, float* cs) {
  const float theta_scale = std::pow(p.base, -2.0f / static_cast<float>(n_rot));
  const YarnParams& y = p.yarn;
  // ggml (rope_yarn): YaRN also scales the magnitude, by 1 + 0.1 ln(1 / freq_scale), computed
  // in float.
  const float mscale =
      y.ext_factor != 0.0f ? p.attn_factor * (1.0f + 0.1f * std::log(1.0f / p.freq_scale)) : p.attn_factor;
  // ggml's rope_yarn_ramp: its denominator is kept >= 0.001 so an empty range does not divide
  // by zero.
  const float ramp_width = std::max(0.001f, y.corr_high - y.corr_low);
  float theta = static_cast<float>(pos);
  for (int64_t j = 0; j < n_rot / 2; ++j) {
    const float ff = freq_factors ? freq_factors[j] : 1.0f;
    const float extrap = theta / ff;
    float angle = p.freq_scale * extrap;
    if (y.ext_factor != 0.0f) {
      const float ramp = 1.0f - std::min(1.0f, std::max(0.0f, (static_cast<float>(j) - y.corr_low) / ramp_width));
      const float mix = ramp * y.ext_factor;
      angle = angle * (1.0f - mix) + extrap * mix;
    }
    cs[2 * j] = std::cos(angle) * mscale;
    cs[2 * j + 1] = std::sin(angle) * mscale;
    theta *= theta_scale;
  }
}

void compute_rope_table(const ForwardBatch& batch, const RopeParams& p, int64_t n_rot, const float* freq_factors,
                        float* rope) {
  for (size_t i = 0; i < batch.tokens.size(); ++i)
    rope_angles(batch.tokens[i].pos, p, n_rot, freq_factors, rope + i * n_rot);
}

YarnParams yarn_params(int64_t n_rot, int64_t n_ctx_orig, float base, float ext_factor, float beta_fast,
                       float beta_slow) {
  // ggml_rope_yarn_corr_dim: the dim whose wavelength fits n_rotations times in n_ctx_orig.
  auto corr_dim = [&](float n_rotations) {
    return static_cast<float>(n_rot) *
           std::log(static_cast<float>(n_ctx_orig) / (n_rotations * 2.0f * std::numbers::pi_v<float>)) /
           (2.0f * std::log(base));
  };
  YarnParams y;
  y.ext_factor = ext_factor;
  y.corr_low = std::max(0.0f, std::floor(corr_dim(beta_fast)));
  y.corr_high = std::min(static_cast<float>(n_rot - 1), std::ceil(corr_dim(beta_slow)));
  return y;
}

void apply_rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, RopeStyle style, const float* cs) {
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      // Normal style rotates adjacent pairs, NEOX style pairs element j with j + n_rot/2.
      const int64_t i0 = style == RopeStyle::kNormal ? 2 * j : j;
      const int64_t i1 = style == RopeStyle::kNormal ? 2 * j + 1 : j + half;
      const float x0 = v[i0], x1 = v[i1];
      v[i0] = x0 * cs[2 * j] - x1 * cs[2 * j + 1];
      v[i1] = x0 * cs[2 * j + 1] + x1 * cs[2 * j];
    }
  }
}

}  // namespace corral::model
