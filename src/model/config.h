// Hyper-parameters of a decoder-only transformer, read from GGUF metadata.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/gguf_file.h"

namespace corral::model {

enum class RopeStyle {
  kNormal,  // rotate adjacent pairs (x[2i], x[2i+1]): llama (ggml rope mode 0)
  kNeox,    // rotate halves (x[i], x[i + n_rot/2]): qwen2, gpt-neox (ggml mode 2)
};

struct ModelConfig {
  std::string arch;        // general.architecture
  std::string name;        // general.name (may be empty)
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;  // <arch>.context_length
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;    // <arch>.attention.key_length, else n_embd / n_head
  int64_t n_ff = 0;
  float rms_eps = 1e-5f;
  // RoPE: theta_i = pos * freq_scale * base^(-2i/n_rot) / freq_factor_i.
  RopeStyle rope_style = RopeStyle::kNormal;
  int64_t n_rot = 0;       // rotated dims per head (<= head_dim)
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / <arch>.rope.scaling.factor for linear scaling
  bool has_qkv_bias = false;
  bool tied_embeddings = false;  // no output.weight: logits use token_embd
  int64_t file_type = -1;        // general.file_type (ggml's llama_ftype), -1 if absent

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads the llama-family keys (<arch>.embedding_length, ...). n_vocab comes from the token
// embedding's shape (checked by the caller). Every value is range-checked: the file is
// untrusted.
Result<ModelConfig> read_llama_family_config(const gguf::GgufFile& f, const std::string& arch);

}  // namespace corral::model
