// general.architecture = "gpt-oss": OpenAI's gpt-oss (20b, 120b). The llama block with these
// differences, each as llama.cpp implements them:
//  - q/k/v and output projections with biases;
//  - attention sinks: a learned per-head logit that joins the softmax and takes its share of
//    the probability mass away (attn_sinks);
//  - sliding-window attention (attention.sliding_window) on even layers, full causal attention
//    on odd layers; every layer uses the same NEOX rope with YaRN scaling
//    (rope.scaling.type yarn, factor 32 over an original context of 4096 in the released
//    files); attention scale 1/sqrt(rope.dimension_count);
//  - the pre-FFN norm is stored as post_attention_norm;
//  - a mixture-of-experts FFN in every layer: router with a bias, top expert_used_count of the
//    raw logits, softmax over just those; experts with gate/up/down biases and a clamped SwiGLU
//    (alpha 1.702, limit 7) instead of silu;
//  - a separate output matrix.
#include <cmath>

#include "model/config.h"
#include "model/llama_like.h"
#include "model/registry.h"

namespace corral::model {

Result<std::shared_ptr<Model>> load_gptoss(std::shared_ptr<const gguf::GgufFile> file) {
  const std::string arch = "gpt-oss";
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, arch));
  CORRAL_RETURN_IF_ERROR(read_moe_config(*file, c));
  c.rope_style = RopeStyle::kNeox;
  c.has_qkv_bias = true;
  c.has_attn_out_bias = true;
  c.attn_sinks = true;
  c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.n_rot));
  c.ffn_norm_name = "post_attention_norm";
  c.ffn_act = FfnActivation::kSwigluClamped;
  c.moe_gating = MoeGating::kTopKSoftmax;
  c.moe_biases = true;
  CORRAL_ASSIGN_OR_RETURN(int64_t window, read_sliding_window(*file, arch, /*required=*/true));
  c.layer_rope.assign(static_cast<size_t>(c.n_layer), 0);
  for (int64_t il = 0; il < c.n_layer; ++il) c.layer_window.push_back(il % 2 == 0 ? static_cast<int32_t>(window) : 0);
  return LlamaLikeModel::create(std::move(file), std::move(c));
}

}  // namespace corral::model
