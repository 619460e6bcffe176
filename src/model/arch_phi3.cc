// general.architecture = "phi3": Phi-3 / Phi-3.5 / Phi-4-mini. A llama block with a fused
// attn_qkv matrix (q | k | v rows) and a fused ffn_up (gate rows, then up rows), NEOX rope that
// may rotate only the first rope.dimension_count dims of each head (Phi-4-mini: 0.75), and a
// separate output matrix. attention.sliding_window, when > 0, applies to every layer (as
// llama.cpp does; Phi-3-mini-4k's 2047).
#include <algorithm>

#include "model/config.h"
#include "model/llama_like.h"
#include "model/registry.h"

namespace corral::model {

Result<std::shared_ptr<Model>> load_phi3(std::shared_ptr<const gguf::GgufFile> file) {
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, "phi3"));
  c.rope_style = RopeStyle::kNeox;
  c.fused_qkv = true;
  c.fused_gate_up = true;
  CORRAL_ASSIGN_OR_RETURN(int64_t window, read_sliding_window(*file, "phi3", /*required=*/false));
  c.layer_rope.assign(static_cast<size_t>(c.n_layer), 0);
  c.layer_window.assign(static_cast<size_t>(c.n_layer), static_cast<int32_t>(window));
  // LongRoPE files (Phi-3.5, Phi-4-mini) carry rope_factors_short and _long; only the short
  // factors are implemented, which are the ones for contexts up to the original training
  // length, so the context is capped there.
  if (file->find_tensor("rope_factors_long.weight")) {
    const int64_t orig = file->int_or("phi3.rope.scaling.original_context_length", 0);
    if (orig <= 0)
      return Status::error("phi3: rope_factors_long without rope.scaling.original_context_length is not supported");
    c.n_ctx_train = std::min(c.n_ctx_train, orig);
  }
  return LlamaLikeModel::create(std::move(file), std::move(c));
}

}  // namespace corral::model
