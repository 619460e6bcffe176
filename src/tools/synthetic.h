// Writes random-weight llama-family GGUF models of any shape and quant mix, so benchmarks can
// run realistic sizes (e.g. exactly Llama-3.2-1B's or Qwen3-1.7B's shape) without downloading
// weights. The values are meaningless; speed does not depend on them. Metadata keys, tensor
// names and shapes are llama.cpp's (convert_hf_to_gguf.py + llama-quantize) for each arch.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "tensor/dtype.h"

namespace corral::model {

// Quant mixes: a single type for every matrix, or llama-quantize's Q4_K_M / Q5_K_M recipes
// (Q6_K output/tied embeddings, Q6_K attn_v and ffn_down / ffn_down_exps in the "more bits"
// layers; with exactly 8 experts attn_k / attn_v Q8_0 and attn_output Q5_K, as llama-quantize).
enum class SynthMix { kUniform, kQ4_K_M, kQ5_K_M };

struct SynthSpec {
  std::string arch = "llama";  // "llama", "qwen2", "qwen3", "qwen3moe" or "gemma3"
  std::string name = "corral-synthetic";
  int64_t n_embd = 2048, n_layer = 16, n_head = 32, n_head_kv = 8, n_ff = 8192;
  int64_t head_dim = 0;  // 0: n_embd / n_head (written as attention.key_length otherwise)
  // qwen3moe: the MoE FFN of every layer (router ffn_gate_inp [n_expert][n_embd] F32, experts
  // ffn_{gate,up}_exps [n_expert][n_ff_exp][n_embd], ffn_down_exps [n_expert][n_embd][n_ff_exp]).
  int64_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0;
  int64_t sliding_window = 512;  // gemma3: window of the local layers (5 of every 6)
  int64_t n_ctx = 131072;
  float rope_base = 500000.0f;
  bool llama3_rope_scaling = true;  // write rope_freqs (factor 8, original context 8192)
  bool tied_embeddings = true;
  float rms_eps = 1e-5f;
  SynthMix mix = SynthMix::kQ4_K_M;
  DType type = DType::kQ4_K;  // matrices for kUniform (norms are always f32)
  std::string vocab_path;     // GGUF whose tokenizer.* metadata (and size) to copy
  int64_t n_vocab = 0;        // when no vocab_path: a byte-level vocabulary of 256 + extras
  uint64_t seed = 1;
};

// Presets: "llama3.2-1b", "llama3.2-3b", "gemma3-1b" (Gemma-3-1B's shape: arch gemma3, 26
// layers, 4 heads x 256, 1 KV head, window 512), "qwen3-1.7b" (Qwen3-1.7B's shape),
// "qwen3moe-30b-a3b-slim" (Qwen3-30B-A3B's layers, 4 of its 48), "tiny" (n_embd 256, 4 layers)
// and "qwen3-tiny" / "qwen3moe-tiny" / "gemma3-tiny" (tiny shapes of those archs, for tests and
// for trying scripts). False if unknown.
bool synth_preset(const std::string& name, SynthSpec* spec);
// Parses "q4_k_m", "q5_k_m" or any single type name ("q8_0", "f16", ...).
bool parse_synth_type(const std::string& s, SynthSpec* spec);

Status write_synthetic_model(const SynthSpec& spec, const std::string& path);

}  // namespace corral::model
