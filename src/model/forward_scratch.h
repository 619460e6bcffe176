// Activation buffers of one forward pass, reused across passes (grown, never shrunk).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/matmul.h"
#include "model/config.h"

namespace corral::model {

class ForwardScratch {
 public:
  // Grows the buffers for n tokens, n_out of them producing output, with attention spans up to
  // max_ctx positions, for n_threads threads.
  void reserve(const ModelConfig& c, int64_t n, int64_t n_out, int64_t max_ctx, int n_threads);

  std::vector<float> x;                      // [n][n_embd] residual stream
  std::vector<float> xn;                     // [n][n_embd] normed input of a sub-layer / its output
  std::vector<float> q;                      // [n][q_dim]
  std::vector<float> k;                      // [n][kv_dim]
  std::vector<float> v;                      // [n][kv_dim]
  std::vector<float> attn;                   // [n][q_dim] attention output (heads concatenated)
  std::vector<float> gate;                   // [n][ffn_width] (dense n_ff, or one expert's n_ff_exp)
  std::vector<float> up;                     // [n][ffn_width]
  std::vector<float> rope;                   // [n_rope_variants][n][n_rot] (cos, sin) pairs per rotated pair
  std::vector<float> out_x;                  // [n_out][n_embd] hidden states of the output tokens
  std::vector<std::vector<float>> scores;    // [n_threads][n_head / n_head_kv][max_ctx + 1] KV group scores + sink
  std::vector<std::vector<float>> kv_block;  // [n_threads][kernels::attention_scratch_floats(group, head_dim)]
  std::vector<std::vector<const void*>> attn_blocks;  // [n_threads][2][max_ctx / kKvBlockTokens + 2] K, V blocks
  // Mixture-of-experts FFN (n_expert > 0 only).
  std::vector<float> moe_logits;  // [n][n_expert] router logits, then probabilities
  std::vector<int32_t> moe_ids;   // [n][n_expert_used] selected experts, best first
  std::vector<float> moe_w;       // [n][n_expert_used] their renormalized weights
  std::vector<int32_t> moe_rows;  // [n * n_expert_used] (token, slot) rows routed to one expert
  std::vector<float> moe_x;       // [n * n_expert_used][n_embd] one expert's gathered inputs / outputs
  std::vector<float> moe_y;       // [n][n_expert_used][n_embd] each selected expert's output
  kernels::MatmulScratch matmul;
};

}  // namespace corral::model
