// Hyper-parameters of a decoder-only transformer, read from GGUF metadata.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_file.h"

namespace corral::model {

enum class FfnActivation {
  kSilu,      // SwiGLU: silu(gate) * up (llama, qwen, phi3)
  kGeluTanh,  // GeGLU with tanh-approximated GELU: gelu_tanh(gate) * up (gemma)
  // gpt-oss's clamped SwiGLU: g = min(gate, 7), u = clamp(up, -7, 7),
  // g * sigmoid(1.702 g) * (u + 1) (ggml's swiglu_oai with alpha 1.702, limit 7).
  kSwigluClamped,
};

// How a mixture-of-experts router turns its logits into expert weights.
enum class MoeGating {
  // softmax over all experts, top-k of the probabilities, renormalized to sum to 1 (qwen3moe)
  kSoftmaxTopK,
  // top-k of the raw logits, softmax over the k selected logits (gpt-oss)
  kTopKSoftmax,
};

// YaRN rope scaling as ggml's rope_yarn computes it: per rotated pair i, the angle blends the
// interpolated theta * freq_scale and the extrapolated theta with ramp(i) * ext_factor, where
// ramp is 1 below corr_low, 0 above corr_high and linear between; cos and sin are multiplied by
// 1 + 0.1 ln(1 / freq_scale) on top of attn_factor. ext_factor 0 = plain (linear) scaling.
struct YarnParams {
  float ext_factor = 0.0f;
  float corr_low = 0.0f;   // first pair index of the ramp (floor of the beta_fast correction dim)
  float corr_high = 0.0f;  // last pair index of the ramp (ceil of the beta_slow correction dim)
};

// A rotary embedding's parameters; one model may use several (gemma3: local and global layers).
struct RopeParams {
  float base = 10000.0f;
  float freq_scale = 1.0f;   // 1 / <arch>.rope.scaling.factor (linear and YaRN scaling)
  float attn_factor = 1.0f;  // cos and sin are multiplied by it (<arch>.rope.scaling.attn_factor: LongRoPE)
  YarnParams yarn;           // rope.scaling.type yarn only
};

enum class RopeStyle {
  kNormal,  // rotate adjacent pairs (x[2i], x[2i+1]): llama (ggml rope mode 0)
  kNeox,    // rotate halves (x[i], x[i + n_rot/2]): qwen2, gpt-neox (ggml mode 2)
};

// How an embedding is made from a sequence's final hidden states.
enum class Pooling {
  kLast,  // the last token's (decoders, as corral embeds with them)
  kMean,  // the mean over every token, [CLS] and [SEP] included (nomic-bert pooling_type 1)
  kCls,   // the first token's, [CLS] (pooling_type 2)
};

struct ModelConfig {
  std::string arch;  // general.architecture
  std::string name;  // general.name (may be empty)
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;  // <arch>.context_length
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;  // <arch>.attention.key_length, else n_embd / n_head
  int64_t n_ff = 0;
  float rms_eps = 1e-5f;
  // RoPE: theta_i = pos * freq_scale * base^(-2i/n_rot) / freq_factor_i.
  RopeStyle rope_style = RopeStyle::kNormal;
  int64_t n_rot = 0;  // rotated dims per head (<= head_dim)
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;    // 1 / <arch>.rope.scaling.factor (linear and YaRN scaling)
  float rope_attn_factor = 1.0f;   // <arch>.rope.scaling.attn_factor
  YarnParams rope_yarn;            // <arch>.rope.scaling.type = yarn
  bool has_qkv_bias = false;       // attn_q/k/v.bias (qwen2, gpt-oss)
  bool has_attn_out_bias = false;  // attn_output.bias (gpt-oss)
  // attn_sinks [n_head]: one extra logit per head that joins the attention softmax (unscaled,
  // never masked) and whose probability mass is dropped (gpt-oss).
  bool attn_sinks = false;
  // Per-head RMSNorm of q and k before rope (attn_q_norm / attn_k_norm, [head_dim]): qwen3, gemma3.
  bool qk_norm = false;
  // RMSNorm of each sub-layer's output before the residual add (post_attention_norm,
  // post_ffw_norm): gemma2/3.
  bool post_norms = false;
  // One attn_qkv matrix [q_dim + 2 kv_dim][n_embd] instead of attn_q/k/v (phi3).
  bool fused_qkv = false;
  // One ffn_up matrix [2 n_ff][n_embd]: rows [0, n_ff) the gate, [n_ff, 2 n_ff) up (phi3).
  bool fused_gate_up = false;
  // The pre-FFN RMSNorm's tensor name in each block (gpt-oss stores it as post_attention_norm).
  std::string ffn_norm_name = "ffn_norm";
  FfnActivation ffn_act = FfnActivation::kSilu;
  float attn_scale = 0.0f;  // scores = q.k * attn_scale; 0 = 1/sqrt(head_dim)
  float embd_scale = 1.0f;  // token embeddings are multiplied by this (gemma: sqrt(n_embd))
  // Mixture of experts in every layer's FFN when n_expert > 0: a router picks n_expert_used of
  // n_expert gated experts (ffn_act) of width n_ff_exp per token, weighted as moe_gating says.
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;
  MoeGating moe_gating = MoeGating::kSoftmaxTopK;
  // Router bias ffn_gate_inp.bias [n_expert] and expert biases ffn_{gate,up}_exps.bias
  // [n_expert][n_ff_exp], ffn_down_exps.bias [n_expert][n_embd] (gpt-oss).
  bool moe_biases = false;
  // Rope variants and attention windows per layer. Empty = one variant {rope_base,
  // rope_freq_scale} and full causal attention in every layer.
  std::vector<RopeParams> ropes;      // [n_variants]
  std::vector<int32_t> layer_rope;    // [n_layer] index into ropes
  std::vector<int32_t> layer_window;  // [n_layer] 0 = full causal attention, else keys
                                      // with pos_q - pos_k >= window are masked
  bool tied_embeddings = false;       // no output.weight: logits use token_embd
  // false for an encoder (nomic-bert): every token attends to every token of its sequence,
  // so a sequence's whole input goes through in one forward pass; it keeps no K/V between
  // passes and has no logits, only hidden states, pooled into an embedding.
  bool causal = true;
  Pooling pooling = Pooling::kLast;
  int64_t file_type = -1;  // general.file_type (ggml's llama_ftype), -1 if absent

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t n_rope_variants() const { return ropes.empty() ? 1 : static_cast<int64_t>(ropes.size()); }
  RopeParams rope(int64_t variant) const {
    return ropes.empty() ? RopeParams{rope_base, rope_freq_scale, rope_attn_factor, rope_yarn}
                         : ropes[static_cast<size_t>(variant)];
  }
  int64_t rope_of_layer(int64_t il) const { return layer_rope.empty() ? 0 : layer_rope[static_cast<size_t>(il)]; }
  int64_t window_of_layer(int64_t il) const { return layer_window.empty() ? 0 : layer_window[static_cast<size_t>(il)]; }
  // Widest FFN hidden layer a token passes through (dense n_ff, or one expert's n_ff_exp).
  int64_t ffn_width() const { return n_expert > 0 ? n_ff_exp : n_ff; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads the llama-family keys (<arch>.embedding_length, ...). n_vocab comes from the token
// embedding's shape (checked by the caller). Every value is range-checked: the file is
// untrusted.
Result<ModelConfig> read_llama_family_config(const gguf::GgufFile& f, const std::string& arch);

// Reads <arch>.expert_count, expert_used_count and expert_feed_forward_length into c (MoE
// architectures); all three are required.
Status read_moe_config(const gguf::GgufFile& f, ModelConfig& c);

// Rows of token_embd.weight (the vocabulary the model was trained with), checked against the
// tokenizer's token list when the file has one.
Result<int64_t> read_vocab_size(const gguf::GgufFile& f);

// Reads <arch>.attention.sliding_window (required when `required`, else 0 if absent).
Result<int64_t> read_sliding_window(const gguf::GgufFile& f, const std::string& arch, bool required);

}  // namespace corral::model
