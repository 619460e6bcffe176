// general.architecture = "gemma3": Gemma 3 text models. Differences from llama, each as
// llama.cpp implements them:
//  - token embeddings scaled by sqrt(n_embd); tied output;
//  - the norm weights in the GGUF already include Gemma's "1 +" (the converter adds it), so
//    they are used as stored;
//  - QK-norm per head, and RMSNorm of the attention and FFN outputs (post_attention_norm,
//    post_ffw_norm) before each residual add;
//  - GELU-tanh gated FFN;
//  - five sliding-window layers then one global layer (layer il is global iff (il+1) % 6 == 0;
//    sliding_window_pattern overrides it); local layers use rope base 10000
//    (rope.local.freq_base overrides) without scaling, global layers rope.freq_base (1e6 when
//    absent, as in Ollama-converted files) with the file's linear rope scaling;
//  - attention scale 1/sqrt(head_dim), except 1/sqrt(n_embd / n_head) for the 62-layer 27B
//    (its query_pre_attn_scalar; the GGUF does not carry it, llama.cpp keys on the depth).
#include <cmath>
#include <vector>

#include "model/config.h"
#include "model/llama_like.h"
#include "model/registry.h"

namespace corral::model {

Result<std::shared_ptr<Model>> load_gemma3(std::shared_ptr<const gguf::GgufFile> file) {
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, "gemma3"));
  c.rope_style = RopeStyle::kNeox;
  c.qk_norm = true;
  c.post_norms = true;
  c.ffn_act = FfnActivation::kGeluTanh;
  c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
  if (c.n_layer == 62) c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
  CORRAL_ASSIGN_OR_RETURN(int64_t window, read_sliding_window(*file, "gemma3", /*required=*/true));
  // Ollama's converter writes neither the rms epsilon nor rope.freq_base for the multimodal
  // checkpoints; Gemma 3's values are 1e-6 and 1e6 (Ollama's runtime defaults too).
  if (!file->find("gemma3.attention.layer_norm_rms_epsilon")) c.rms_eps = 1e-6f;
  if (!file->find("gemma3.rope.freq_base")) {
    const double global_base = file->float_or("gemma3.rope.global.freq_base", 1e6);
    if (!(global_base > 1)) return Status::errorf("gemma3.rope.global.freq_base {} is out of range", global_base);
    c.rope_base = static_cast<float>(global_base);
  }
  const double local_base = file->float_or("gemma3.rope.local.freq_base", 10000.0);
  if (!(local_base > 1)) return Status::errorf("gemma3.rope.local.freq_base {} is out of range", local_base);
  // Variant 0: local layers; variant 1: global layers.
  c.ropes = {RopeParams{static_cast<float>(local_base), 1.0f, 1.0f, YarnParams{}},
             c.rope(0)};  // the file's rope and scaling (ropes is still empty here)
  // Which layers are local: sliding_window_pattern as a period (every pattern-th layer is
  // global) or, from Ollama's converter, one bool per layer (true = local); else every 6th.
  std::vector<bool> local(static_cast<size_t>(c.n_layer));
  const gguf::Value* pv = file->find("gemma3.attention.sliding_window_pattern");
  if (pv && pv->is_array()) {
    const std::vector<int64_t>* flags = pv->ints();
    if (!flags || static_cast<int64_t>(flags->size()) != c.n_layer)
      return Status::errorf("gemma3.attention.sliding_window_pattern must hold {} bools", c.n_layer);
    for (int64_t il = 0; il < c.n_layer; ++il) local[il] = (*flags)[il] != 0;
  } else {
    const int64_t pattern = pv && pv->as_int() ? *pv->as_int() : 6;
    if (pattern < 1 || pattern > c.n_layer + 1)
      return Status::errorf("gemma3.attention.sliding_window_pattern {} is out of range", pattern);
    for (int64_t il = 0; il < c.n_layer; ++il) local[il] = (il + 1) % pattern != 0;
  }
  for (int64_t il = 0; il < c.n_layer; ++il) {
    c.layer_rope.push_back(local[il] ? 0 : 1);
    c.layer_window.push_back(local[il] ? static_cast<int32_t>(window) : 0);
  }
  return LlamaLikeModel::create(std::move(file), std::move(c));
}

}  // namespace corral::model
