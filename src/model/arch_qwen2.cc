// general.architecture = "qwen2": Qwen2 / Qwen2.5. A llama block with Q/K/V biases and NEOX
// (half-split) RoPE; small models tie the output matrix to the embeddings.
#include "model/config.h"
#include "model/llama_like.h"
#include "model/registry.h"

namespace corral::model {

Result<std::shared_ptr<Model>> load_qwen2(std::shared_ptr<const gguf::GgufFile> file) {
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, "qwen2"));
  c.rope_style = RopeStyle::kNeox;
  c.has_qkv_bias = true;
  return LlamaLikeModel::create(std::move(file), std::move(c));
}

}  // namespace corral::model
