// The pre-norm decoder shared by llama-family architectures: RMSNorm -> Q/K/V (optional
// biases) -> RoPE -> causal attention with grouped KV heads -> output projection -> residual
// -> RMSNorm -> SwiGLU FFN -> residual; final RMSNorm and output projection (or tied
// embeddings). Architectures configure it through ModelConfig (arch_<name>.cc): optional
// building blocks are per-head QK-norm, fused QKV / gate-up tensors, partial and per-layer
// rope (linear or YaRN scaling), sliding-window layers, attention sinks, q/k/v/o biases,
// post-sub-layer norms, embedding scale, GELU-tanh and clamped-SwiGLU gated FFNs and a
// mixture-of-experts FFN (moe_ffn.h). One that needs a different block gets its own model
// class.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "kernels/matmul.h"
#include "model/forward_scratch.h"
#include "model/model.h"
#include "model/moe_ffn.h"

namespace corral::model {

struct DecoderLayer {
  const float* attn_norm = nullptr;       // [n_embd]
  kernels::WeightMatrix wq;               // [q_dim][n_embd]
  kernels::WeightMatrix wk;               // [kv_dim][n_embd]
  kernels::WeightMatrix wv;               // [kv_dim][n_embd]
  const float* bq = nullptr;              // [q_dim]  (has_qkv_bias only)
  const float* bk = nullptr;              // [kv_dim] (has_qkv_bias only)
  const float* bv = nullptr;              // [kv_dim] (has_qkv_bias only)
  const float* q_norm = nullptr;          // [head_dim] (qk_norm only)
  const float* k_norm = nullptr;          // [head_dim] (qk_norm only)
  kernels::WeightMatrix wo;               // [n_embd][q_dim]
  const float* bo = nullptr;              // [n_embd] (has_attn_out_bias only)
  const float* sinks = nullptr;           // [n_head] (attn_sinks only)
  const float* post_attn_norm = nullptr;  // [n_embd] (post_norms only)
  const float* ffn_norm = nullptr;        // [n_embd]
  kernels::WeightMatrix w_gate;           // [n_ff][n_embd] (dense FFN)
  kernels::WeightMatrix w_up;             // [n_ff][n_embd] (dense FFN)
  kernels::WeightMatrix w_down;           // [n_embd][n_ff] (dense FFN)
  MoeWeights moe;                         // n_expert > 0 only
  const float* post_ffn_norm = nullptr;   // [n_embd] (post_norms only)
};

class LlamaLikeModel final : public Model {
 public:
  // Binds the standard llama tensor names (token_embd, blk.N.attn_q, ..., output) for `config`.
  static Result<std::shared_ptr<Model>> create(std::shared_ptr<const gguf::GgufFile> file, ModelConfig config);

  std::unique_ptr<ForwardScratch> make_scratch() const override;
  void forward(const ForwardBatch& batch, const KvStorage& kv, const ForwardOutput& out, ForwardScratch& scratch,
               ThreadPool& pool) const override;

 private:
  LlamaLikeModel() = default;
  struct MatmulOut {
    const kernels::WeightMatrix* w;
    float* y;  // [n][ldy]
    int64_t ldy;
  };
  void matmul_shared_input(std::initializer_list<MatmulOut> outs, const float* x, int64_t n, ForwardScratch& s,
                           ThreadPool& pool) const;

  kernels::WeightMatrix tok_embd_;      // [n_vocab][n_embd]
  std::vector<DecoderLayer> layers_;    // [n_layer]
  const float* output_norm_ = nullptr;  // [n_embd]
  kernels::WeightMatrix output_;        // [n_vocab][n_embd]; token_embd when tied
  // [n_rot/2] frequency divisors of every rope variant (llama-3's rope_freqs, phi3's
  // rope_factors_short), or nullptr
  const float* rope_freqs_ = nullptr;
  std::vector<std::vector<float>> owned_;  // 1-D tensors converted to f32
};

}  // namespace corral::model
