// general.architecture = "qwen3moe": Qwen3 MoE (Qwen3-30B-A3B, 235B-A22B). Qwen3's attention
// (QK-norm, NEOX rope, no biases) with a mixture-of-experts FFN in every layer: softmax router,
// top expert_used_count experts, their weights renormalized to sum to 1 (llama.cpp always does;
// no GGUF key carries Qwen's norm_topk_prob), no shared expert.
#include "model/config.h"
#include "model/llama_like.h"
#include "model/registry.h"

namespace corral::model {

Result<std::shared_ptr<Model>> load_qwen3moe(std::shared_ptr<const gguf::GgufFile> file) {
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, "qwen3moe"));
  CORRAL_RETURN_IF_ERROR(read_moe_config(*file, c));
  c.rope_style = RopeStyle::kNeox;
  c.qk_norm = true;
  return LlamaLikeModel::create(std::move(file), std::move(c));
}

}  // namespace corral::model
