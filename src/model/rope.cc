#include "model/rope.h"

#include <cmath>

namespace corral::model {

void compute_rope_table(const ForwardBatch& batch, const RopeParams& p, int64_t n_rot, const float* freq_factors,
                        float* rope) {
  const float theta_scale = std::pow(p.base, -2.0f / static_cast<float>(n_rot));
  for (size_t i = 0; i < batch.tokens.size(); ++i) {
    float* cs = rope + i * n_rot;
    float theta = static_cast<float>(batch.tokens[i].pos);
    for (int64_t j = 0; j < n_rot / 2; ++j) {
      const float ff = freq_factors ? freq_factors[j] : 1.0f;
      const float angle = p.freq_scale * (theta / ff);
      cs[2 * j] = std::cos(angle) * p.attn_factor;
      cs[2 * j + 1] = std::sin(angle) * p.attn_factor;
      theta *= theta_scale;
    }
  }
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
