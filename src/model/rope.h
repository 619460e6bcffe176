// Rotary position embeddings as ggml computes them (modes 0 and 2, partial rotation, linear
// scaling, per-pair frequency divisors), shared by every decoder architecture.
#pragma once

#include <cstdint>

#include "model/batch.h"
#include "model/config.h"

namespace corral::model {

// Per token, the (cos, sin) of each rotated pair: rope [n_tokens][n_rot]. The angle of pair i
// is pos * base^(-2i/n_rot) built by repeated float multiplication, divided by freq_factors[i]
// (llama-3 / phi3 frequency divisors; nullptr = 1), times freq_scale; cos and sin are scaled by
// attn_factor. Results track ggml's to float precision.
void compute_rope_table(const ForwardBatch& batch, const RopeParams& p, int64_t n_rot, const float* freq_factors,
                        float* rope);

// Rotates the first n_rot dims of each of n_heads head vectors (head_dim apart) in place;
// dims [n_rot, head_dim) are left as they are (partial rotary, phi3 / Phi-4-mini).
void apply_rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, RopeStyle style, const float* cs);

}  // namespace corral::model
