// general.architecture = "qwen3": Qwen3 dense models. The qwen2 block without Q/K/V biases and
// with QK-norm (each head of q and k RMS-normalized before rope); NEOX rope; head_dim comes from
// attention.key_length (q_dim may differ from n_embd); small models tie the embeddings.
#include "model/config.h"
#include "model/llama_like.h"
#include "model/registry.h"

namespace corral::model {

Result<std::shared_ptr<Model>> load_qwen3(std::shared_ptr<const gguf::GgufFile> file) {
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, "qwen3"));
  c.rope_style = RopeStyle::kNeox;
  c.qk_norm = true;
  return LlamaLikeModel::create(std::move(file), std::move(c));
}

}  // namespace corral::model
