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
};

// A rotary embedding's parameters; one model may use several (gemma3: local and global layers).
struct RopeParams {
  float base = 10000.0f;
  float freq_scale = 1.0f;   // 1 / <arch>.rope.scaling.factor for linear scaling
  float attn_factor = 1.0f;  // cos and sin are multiplied by it (<arch>.rope.scaling.attn_factor: LongRoPE)
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
  float rope_freq_scale = 1.0f;   // 1 / <arch>.rope.scaling.factor for linear scaling
  float rope_attn_factor = 1.0f;  // <arch>.rope.scaling.attn_factor
  bool has_qkv_bias = false;
  // Per-head RMSNorm of q and k before rope (attn_q_norm / attn_k_norm, [head_dim]): qwen3, gemma3.
  bool qk_norm = false;
  // RMSNorm of each sub-layer's output before the residual add (post_attention_norm,
  // post_ffw_norm): gemma2/3.
  bool post_norms = false;
  // One attn_qkv matrix [q_dim + 2 kv_dim][n_embd] instead of attn_q/k/v (phi3).
  bool fused_qkv = false;
  // One ffn_up matrix [2 n_ff][n_embd]: rows [0, n_ff) the gate, [n_ff, 2 n_ff) up (phi3).
  bool fused_gate_up = false;
  FfnActivation ffn_act = FfnActivation::kSilu;
  float attn_scale = 0.0f;  // scores = q.k * attn_scale; 0 = 1/sqrt(head_dim)
  float embd_scale = 1.0f;  // token embeddings are multiplied by this (gemma: sqrt(n_embd))
  // Mixture of experts in every layer's FFN when n_expert > 0: a router picks n_expert_used of
  // n_expert SwiGLU experts of width n_ff_exp per token, weighted by their renormalized
  // softmax probabilities.
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;
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
    return ropes.empty() ? RopeParams{rope_base, rope_freq_scale, rope_attn_factor}
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

// Reads <arch>.attention.sliding_window (required when `required`, else 0 if absent).
Result<int64_t> read_sliding_window(const gguf::GgufFile& f, const std::string& arch, bool required);

}  // namespace corral::model
