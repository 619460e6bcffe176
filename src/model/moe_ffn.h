// The mixture-of-experts FFN block (qwen3moe, gpt-oss): a router scores every expert per token,
// the top n_expert_used are kept and weighted (ModelConfig::moe_gating: softmax probabilities
// renormalized over the kept experts, or a softmax over the kept logits), and the token's output
// is the weighted sum of those experts' gated FFNs (ModelConfig::ffn_act), with optional router
// and expert biases (ModelConfig::moe_biases).
//
// Batched: the tokens of every sequence in the step are grouped by expert, so each expert's
// weights are streamed from memory once per step for all the tokens routed to it.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "model/config.h"
#include "model/forward_scratch.h"
#include "model/weight_binder.h"

namespace corral::model {

struct MoeWeights {
  kernels::WeightMatrix router;             // [n_expert][n_embd] (ffn_gate_inp)
  std::vector<kernels::WeightMatrix> gate;  // [n_expert] x [n_ff_exp][n_embd] (ffn_gate_exps)
  std::vector<kernels::WeightMatrix> up;    // [n_expert] x [n_ff_exp][n_embd] (ffn_up_exps)
  std::vector<kernels::WeightMatrix> down;  // [n_expert] x [n_embd][n_ff_exp] (ffn_down_exps)
  // moe_biases only (else nullptr):
  const float* router_bias = nullptr;  // [n_expert] (ffn_gate_inp.bias)
  const float* gate_bias = nullptr;    // [n_expert][n_ff_exp] (ffn_gate_exps.bias)
  const float* up_bias = nullptr;      // [n_expert][n_ff_exp] (ffn_up_exps.bias)
  const float* down_bias = nullptr;    // [n_expert][n_embd] (ffn_down_exps.bias)
};

// Binds blk.<il>.ffn_gate_inp / ffn_{gate,up,down}_exps (and their biases when c.moe_biases)
// for config c.
Result<MoeWeights> bind_moe(WeightBinder& b, const std::string& prefix, const ModelConfig& c);

// Picks the n_used largest of probs[0, n_expert) (ties to the lower index), writes their
// indices to ids[n_used] (largest first) and their probabilities divided by their sum to w.
void select_experts(const float* probs, int64_t n_expert, int64_t n_used, int32_t* ids, float* w);

// Picks the n_used largest of logits[0, n_expert) the same way and writes the softmax over
// just those n_used logits to w (gpt-oss's gating).
void select_experts_softmax_after_topk(const float* logits, int64_t n_expert, int64_t n_used, int32_t* ids, float* w);

// out [n][n_embd] = the MoE FFN of xn [n][n_embd] (already normed); out may alias xn. Uses
// s.moe_*, s.gate, s.up.
void moe_ffn(const MoeWeights& m, const ModelConfig& c, const float* xn, int64_t n, float* out, ForwardScratch& s,
             ThreadPool& pool);

}  // namespace corral::model
