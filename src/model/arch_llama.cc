// general.architecture = "llama": Llama 2/3/3.1/3.2, Mistral, TinyLlama, SmolLM and the
// llama2.c family. Normal (adjacent-pair) RoPE; Llama-3.1 rope scaling arrives as the
// rope_freqs tensor; tied embeddings when output.weight is absent.
#include "model/config.h"
#include "model/llama_like.h"
#include "model/registry.h"

namespace corral::model {

Result<std::shared_ptr<Model>> load_llama(std::shared_ptr<const gguf::GgufFile> file) {
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, "llama"));
  c.rope_style = RopeStyle::kNormal;
  c.has_qkv_bias = false;
  return LlamaLikeModel::create(std::move(file), std::move(c));
}

}  // namespace corral::model
