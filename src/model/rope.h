// Rotary position embeddings as ggml computes them (modes 0 and 2, partial rotation, linear
// and YaRN scaling, per-pair frequency divisors), shared by every decoder architecture.
#pragma once

#include <cstdint>

#include "model/batch.h"
#include "model/config.h"

namespace corral::model {

// Per token, the (cos, sin) of each rotated pair: rope [n_tokens][n_rot]. The angle of pair i
// is theta = pos * base^(-2i/n_rot) built by repeated float multiplication, divided by
// freq_factors[i] (llama-3 / phi3 frequency divisors; nullptr = 1), times freq_scale; with YaRN
// (p.yarn.ext_factor != 0) blended with the unscaled theta by the ramp and cos/sin scaled by
// 1 + 0.1 ln(1 / freq_scale); cos and sin are scaled by attn_factor. Results track ggml's to
// float precision.
void compute_rope_table(const ForwardBatch& batch, const RopeParams& p, int64_t n_rot, const float* freq_factors,
                        float* rope);

// The same for one position (pos need not be a batch's; tests, and callers outside a batch):
// cs [n_rot] = (cos, sin) pairs.
void rope_angles(int64_t pos, const RopeParams& p, int64_t n_rot, const float* freq_factors, float* cs);

// YaRN's correction range for n_rot rotated dims trained at n_ctx_orig positions, as ggml's
// ggml_rope_yarn_corr_dims: the pair index where beta_fast (resp. beta_slow) rotations fit in
// n_ctx_orig, floor / ceil, clamped to [0, n_rot - 1].
YarnParams yarn_params(int64_t n_rot, int64_t n_ctx_orig, float base, float ext_factor, float beta_fast,
                       float beta_slow);

// Rotates the first n_rot dims of each of n_heads head vectors (head_dim apart) in place;
// dims [n_rot, head_dim) are left as they are (partial rotary, phi3 / Phi-4-mini).
void apply_rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, RopeStyle style, const float* cs);

}  // namespace corral::model
