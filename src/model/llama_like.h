// The pre-norm decoder shared by llama-family architectures: RMSNorm -> Q/K/V (optional
// biases) -> RoPE -> causal attention with grouped KV heads -> output projection -> residual
// -> RMSNorm -> SwiGLU FFN -> residual; final RMSNorm and output projection (or tied
// embeddings). Architectures configure it (arch_llama.cc, arch_qwen2.cc); one that needs a
// different block gets its own model class.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "kernels/matmul.h"
#include "model/forward_scratch.h"
#include "model/model.h"

namespace corral::model {

struct DecoderLayer {
  const float* attn_norm = nullptr;  // [n_embd]
  kernels::WeightMatrix wq;          // [q_dim][n_embd]
  kernels::WeightMatrix wk;          // [kv_dim][n_embd]
  kernels::WeightMatrix wv;          // [kv_dim][n_embd]
  const float* bq = nullptr;         // [q_dim]  (qwen2 only)
  const float* bk = nullptr;         // [kv_dim] (qwen2 only)
  const float* bv = nullptr;         // [kv_dim] (qwen2 only)
  kernels::WeightMatrix wo;          // [n_embd][q_dim]
  const float* ffn_norm = nullptr;   // [n_embd]
  kernels::WeightMatrix w_gate;      // [n_ff][n_embd]
  kernels::WeightMatrix w_up;        // [n_ff][n_embd]
  kernels::WeightMatrix w_down;      // [n_embd][n_ff]
};

class LlamaLikeModel final : public Model {
 public:
  // Binds the standard llama tensor names (token_embd, blk.N.attn_q, ..., output) for `config`.
  static Result<std::shared_ptr<Model>> create(std::shared_ptr<const gguf::GgufFile> file,
                                               ModelConfig config);

  std::unique_ptr<ForwardScratch> make_scratch() const override;
  void forward(const ForwardBatch& batch, const KvStorage& kv, const ForwardOutput& out,
               ForwardScratch& scratch, ThreadPool& pool) const override;

 private:
  LlamaLikeModel() = default;
  void compute_rope_tables(const ForwardBatch& batch, float* rope) const;
  void apply_rope(float* x, int64_t n_heads, const float* cs) const;
  struct MatmulOut {
    const kernels::WeightMatrix* w;
    float* y;      // [n][ldy]
    int64_t ldy;
  };
  void matmul_shared_input(std::initializer_list<MatmulOut> outs, const float* x, int64_t n, ForwardScratch& s,
                           ThreadPool& pool) const;
  void attention(int64_t layer, const ForwardBatch& batch, const KvStorage& kv,
                 ForwardScratch& s, ThreadPool& pool) const;

  kernels::WeightMatrix tok_embd_;      // [n_vocab][n_embd]
  std::vector<DecoderLayer> layers_;    // [n_layer]
  const float* output_norm_ = nullptr;  // [n_embd]
  kernels::WeightMatrix output_;        // [n_vocab][n_embd]; token_embd when tied
  const float* rope_freqs_ = nullptr;   // [n_rot/2] llama-3 frequency divisors, or nullptr
  std::vector<std::vector<float>> owned_;  // 1-D tensors converted to f32
};

}  // namespace corral::model
