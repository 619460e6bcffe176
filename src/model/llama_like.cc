#include "model/llama_like.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "kernels/api.h"
#include "model/attention.h"
#include "model/ffn_activation.h"
#include "model/rope.h"
#include "model/weight_binder.h"

namespace corral::model {

Result<std::shared_ptr<Model>> LlamaLikeModel::create(std::shared_ptr<const gguf::GgufFile> file, ModelConfig c) {
  std::shared_ptr<LlamaLikeModel> m(new LlamaLikeModel());
  WeightBinder b(*file);
  CORRAL_ASSIGN_OR_RETURN(c.n_vocab, read_vocab_size(*file));
  CORRAL_ASSIGN_OR_RETURN(m->tok_embd_, b.matrix("token_embd.weight", c.n_vocab, c.n_embd));
  m->layers_.resize(static_cast<size_t>(c.n_layer));
  for (int64_t il = 0; il < c.n_layer; ++il) {
    DecoderLayer& L = m->layers_[il];
    const std::string p = "blk." + std::to_string(il) + ".";
    CORRAL_ASSIGN_OR_RETURN(L.attn_norm, b.vector(p + "attn_norm.weight", c.n_embd));
    if (c.fused_qkv) {
      CORRAL_ASSIGN_OR_RETURN(kernels::WeightMatrix qkv, b.matrix(p + "attn_qkv.weight", c.q_dim() + 2 * c.kv_dim(),
                                                                  c.n_embd, whole_groups({c.q_dim(), c.kv_dim()})));
      L.wq = row_slice(qkv, 0, c.q_dim());
      L.wk = row_slice(qkv, c.q_dim(), c.kv_dim());
      L.wv = row_slice(qkv, c.q_dim() + c.kv_dim(), c.kv_dim());
    } else {
      CORRAL_ASSIGN_OR_RETURN(L.wq, b.matrix(p + "attn_q.weight", c.q_dim(), c.n_embd));
      CORRAL_ASSIGN_OR_RETURN(L.wk, b.matrix(p + "attn_k.weight", c.kv_dim(), c.n_embd));
      CORRAL_ASSIGN_OR_RETURN(L.wv, b.matrix(p + "attn_v.weight", c.kv_dim(), c.n_embd));
    }
    if (c.has_qkv_bias) {
      CORRAL_ASSIGN_OR_RETURN(L.bq, b.vector(p + "attn_q.bias", c.q_dim()));
      CORRAL_ASSIGN_OR_RETURN(L.bk, b.vector(p + "attn_k.bias", c.kv_dim()));
      CORRAL_ASSIGN_OR_RETURN(L.bv, b.vector(p + "attn_v.bias", c.kv_dim()));
    }
    if (c.qk_norm) {
      CORRAL_ASSIGN_OR_RETURN(L.q_norm, b.vector(p + "attn_q_norm.weight", c.head_dim));
      CORRAL_ASSIGN_OR_RETURN(L.k_norm, b.vector(p + "attn_k_norm.weight", c.head_dim));
    }
    CORRAL_ASSIGN_OR_RETURN(L.wo, b.matrix(p + "attn_output.weight", c.n_embd, c.q_dim()));
    if (c.has_attn_out_bias) { CORRAL_ASSIGN_OR_RETURN(L.bo, b.vector(p + "attn_output.bias", c.n_embd)); }
    if (c.attn_sinks) { CORRAL_ASSIGN_OR_RETURN(L.sinks, b.vector(p + "attn_sinks.weight", c.n_head)); }
    if (c.post_norms) {
      CORRAL_ASSIGN_OR_RETURN(L.post_attn_norm, b.vector(p + "post_attention_norm.weight", c.n_embd));
      CORRAL_ASSIGN_OR_RETURN(L.post_ffn_norm, b.vector(p + "post_ffw_norm.weight", c.n_embd));
    }
    CORRAL_ASSIGN_OR_RETURN(L.ffn_norm, b.vector(p + c.ffn_norm_name + ".weight", c.n_embd));
    if (c.n_expert > 0) {
      CORRAL_ASSIGN_OR_RETURN(L.moe, bind_moe(b, p, c));
    } else if (c.fused_gate_up) {
      CORRAL_ASSIGN_OR_RETURN(kernels::WeightMatrix gate_up,
                              b.matrix(p + "ffn_up.weight", 2 * c.n_ff, c.n_embd, whole_groups({c.n_ff})));
      L.w_gate = row_slice(gate_up, 0, c.n_ff);
      L.w_up = row_slice(gate_up, c.n_ff, c.n_ff);
    } else {
      CORRAL_ASSIGN_OR_RETURN(L.w_gate, b.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd));
      CORRAL_ASSIGN_OR_RETURN(L.w_up, b.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd));
    }
    if (c.n_expert == 0) { CORRAL_ASSIGN_OR_RETURN(L.w_down, b.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff)); }
  }
  if (!c.layer_rope.empty() || !c.layer_window.empty()) {
    CORRAL_CHECK(static_cast<int64_t>(c.layer_rope.size()) == c.n_layer, "layer_rope size");
    CORRAL_CHECK(static_cast<int64_t>(c.layer_window.size()) == c.n_layer, "layer_window size");
  }
  CORRAL_ASSIGN_OR_RETURN(m->output_norm_, b.vector("output_norm.weight", c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m->output_, b.optional_matrix("output.weight", c.n_vocab, c.n_embd));
  c.tied_embeddings = m->output_.data == nullptr;
  if (c.tied_embeddings) m->output_ = m->tok_embd_;
  CORRAL_ASSIGN_OR_RETURN(m->rope_freqs_, b.optional_vector("rope_freqs.weight", c.n_rot / 2));
  // Phi-3.5 / Phi-4-mini LongRoPE: the short factors are the ones for contexts within
  // rope.scaling.original_context_length (arch_phi3 caps the context there).
  if (!m->rope_freqs_) {
    CORRAL_ASSIGN_OR_RETURN(m->rope_freqs_, b.optional_vector("rope_factors_short.weight", c.n_rot / 2));
  }
  m->owned_ = b.release_owned();
  m->weight_bytes_ = b.bound_bytes();
  m->config_ = std::move(c);
  m->file_ = std::move(file);
  return std::shared_ptr<Model>(std::move(m));
}

std::unique_ptr<ForwardScratch> LlamaLikeModel::make_scratch() const { return std::make_unique<ForwardScratch>(); }

// Runs several matmuls over the same input x [n][k], encoding x once per activation format.
void LlamaLikeModel::matmul_shared_input(std::initializer_list<MatmulOut> outs, const float* x, int64_t n,
                                         ForwardScratch& s, ThreadPool& pool) const {
  const kernels::QuantizedActivations* qa = nullptr;
  DType encoded = DType::kF32;
  for (const MatmulOut& o : outs) {
    const DType at = kernels::activation_type(o.w->type);
    if (!qa || at != encoded) {
      qa = &kernels::quantize_activations(at, x, n, o.w->cols, pool, s.matmul);
      encoded = at;
    }
    kernels::matmul_quantized(*o.w, *qa, o.y, o.ldy, pool);
  }
}

void LlamaLikeModel::forward(const ForwardBatch& batch, const KvStorage& kv, const ForwardOutput& out,
                             ForwardScratch& s, ThreadPool& pool) const {
  const ModelConfig& c = config_;
  const kernels::KernelTable& K = kernels::active();
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  if (n == 0) return;
  int64_t max_ctx = 0;
  for (const BatchToken& t : batch.tokens) {
    CORRAL_CHECK(t.token >= 0 && t.token < c.n_vocab, "token id {} out of range", t.token);
    CORRAL_CHECK(t.seq >= 0 && t.seq < static_cast<int32_t>(batch.seqs.size()), "bad seq index");
    CORRAL_CHECK(t.pos / kKvBlockTokens < batch.seqs[t.seq].n_blocks, "block table too short");
    max_ctx = std::max<int64_t>(max_ctx, t.pos + 1);
  }
  const int64_t n_out = batch.n_outputs();
  s.reserve(c, n, n_out, max_ctx, pool.size());
  const int64_t E = c.n_embd, QD = c.q_dim(), KVD = c.kv_dim(), hd = c.head_dim;

  for (int64_t i = 0; i < n; ++i) kernels::get_row(tok_embd_, batch.tokens[i].token, s.x.data() + i * E);
  if (c.embd_scale != 1.0f) K.scale_f32(s.x.data(), c.embd_scale, s.x.data(), n * E);
  for (int64_t r = 0; r < c.n_rope_variants(); ++r)
    compute_rope_table(batch, c.rope(r), c.n_rot, rope_freqs_, s.rope.data() + r * n * c.n_rot);
  const float attn_scale = c.attn_scale > 0 ? c.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));

  for (int64_t il = 0; il < c.n_layer; ++il) {
    const DecoderLayer& L = layers_[il];
    // Attention block.
    for (int64_t i = 0; i < n; ++i) K.rms_norm(s.x.data() + i * E, L.attn_norm, s.xn.data() + i * E, E, c.rms_eps);
    // Q, K and V read the same normed input: encode it once when their types share an
    // activation format (they always do in llama-quantize's mixes except attn_v in K_M ones).
    matmul_shared_input({{&L.wq, s.q.data(), QD}, {&L.wk, s.k.data(), KVD}, {&L.wv, s.v.data(), KVD}}, s.xn.data(), n,
                        s, pool);
    const float* rope = s.rope.data() + c.rope_of_layer(il) * n * c.n_rot;
    for (int64_t i = 0; i < n; ++i) {
      float* qi = s.q.data() + i * QD;
      float* ki = s.k.data() + i * KVD;
      float* vi = s.v.data() + i * KVD;
      if (L.bq) {
        K.add_f32(qi, L.bq, qi, QD);
        K.add_f32(ki, L.bk, ki, KVD);
        K.add_f32(vi, L.bv, vi, KVD);
      }
      if (L.q_norm) {  // QK-norm: each head vector RMS-normalized on its own
        for (int64_t h = 0; h < c.n_head; ++h) K.rms_norm(qi + h * hd, L.q_norm, qi + h * hd, hd, c.rms_eps);
        for (int64_t h = 0; h < c.n_head_kv; ++h) K.rms_norm(ki + h * hd, L.k_norm, ki + h * hd, hd, c.rms_eps);
      }
      const float* cs = rope + i * c.n_rot;
      apply_rope(qi, c.n_head, hd, c.n_rot, c.rope_style, cs);
      apply_rope(ki, c.n_head_kv, hd, c.n_rot, c.rope_style, cs);
    }
    store_kv(c, il, batch, kv, s);
    attention(c, il, c.window_of_layer(il), attn_scale, L.sinks, batch, kv, s, pool);
    kernels::matmul(L.wo, s.attn.data(), n, s.xn.data(), E, pool, s.matmul);
    if (L.bo)
      for (int64_t i = 0; i < n; ++i) K.add_f32(s.xn.data() + i * E, L.bo, s.xn.data() + i * E, E);
    if (L.post_attn_norm)
      for (int64_t i = 0; i < n; ++i)
        K.rms_norm(s.xn.data() + i * E, L.post_attn_norm, s.xn.data() + i * E, E, c.rms_eps);
    K.add_f32(s.x.data(), s.xn.data(), s.x.data(), n * E);

    // Feed-forward block.
    for (int64_t i = 0; i < n; ++i) K.rms_norm(s.x.data() + i * E, L.ffn_norm, s.xn.data() + i * E, E, c.rms_eps);
    if (c.n_expert > 0) {
      moe_ffn(L.moe, c, s.xn.data(), n, s.xn.data(), s, pool);
    } else {
      matmul_shared_input({{&L.w_gate, s.gate.data(), c.n_ff}, {&L.w_up, s.up.data(), c.n_ff}}, s.xn.data(), n, s,
                          pool);
      gated_activation(c.ffn_act, s.gate.data(), s.up.data(), s.gate.data(), n * c.n_ff);
      kernels::matmul(L.w_down, s.gate.data(), n, s.xn.data(), E, pool, s.matmul);
    }
    if (L.post_ffn_norm)
      for (int64_t i = 0; i < n; ++i)
        K.rms_norm(s.xn.data() + i * E, L.post_ffn_norm, s.xn.data() + i * E, E, c.rms_eps);
    K.add_f32(s.x.data(), s.xn.data(), s.x.data(), n * E);
  }

  if (n_out == 0) return;
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!batch.tokens[i].logits) continue;
    K.rms_norm(s.x.data() + i * E, output_norm_, s.out_x.data() + o * E, E, c.rms_eps);
    ++o;
  }
  if (out.hidden) std::memcpy(out.hidden, s.out_x.data(), static_cast<size_t>(n_out * E) * sizeof(float));
  if (out.logits) kernels::matmul(output_, s.out_x.data(), n_out, out.logits, c.n_vocab, pool, s.matmul);
}

}  // namespace corral::model
