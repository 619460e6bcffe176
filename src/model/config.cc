#include "model/config.h"

#include <cmath>

#include "model/rope.h"

namespace corral::model {
namespace {

// Upper bounds for sanity: the largest open models have n_embd 16384, 126 layers, 128 heads,
// n_ff 53248 and 256k vocabularies. Anything far beyond is a corrupt or hostile file.
constexpr int64_t kMaxEmbd = 1 << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxFf = 1 << 20;
constexpr int64_t kMaxCtx = 1 << 24;
constexpr int64_t kMaxExperts = 1 << 12;

Status require_range(const std::string& key, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) return Status::errorf("{} = {} is out of range [{}, {}]", key, v, lo, hi);
  return Status::ok();
}

Result<int64_t> required_int(const gguf::GgufFile& f, const std::string& key, int64_t lo, int64_t hi) {
  CORRAL_ASSIGN_OR_RETURN(auto v, f.get_int(key));
  if (!v) return Status::errorf("missing metadata key {}", key);
  CORRAL_RETURN_IF_ERROR(require_range(key, *v, lo, hi));
  return *v;
}

Result<int64_t> optional_int(const gguf::GgufFile& f, const std::string& key, int64_t def, int64_t lo, int64_t hi) {
  CORRAL_ASSIGN_OR_RETURN(auto v, f.get_int(key));
  if (!v) return def;
  CORRAL_RETURN_IF_ERROR(require_range(key, *v, lo, hi));
  return *v;
}

Result<double> optional_float(const gguf::GgufFile& f, const std::string& key, double def) {
  CORRAL_ASSIGN_OR_RETURN(auto v, f.get_float(key));
  if (!v) return def;
  if (!std::isfinite(*v)) return Status::errorf("{} is not finite", key);
  return *v;
}

}  // namespace

Result<ModelConfig> read_llama_family_config(const gguf::GgufFile& f, const std::string& arch) {
  ModelConfig c;
  c.arch = arch;
  c.name = f.string_or("general.name", "");
  c.file_type = f.int_or("general.file_type", -1);
  const std::string p = arch + ".";
  CORRAL_ASSIGN_OR_RETURN(c.n_embd, required_int(f, p + "embedding_length", 1, kMaxEmbd));
  CORRAL_ASSIGN_OR_RETURN(c.n_layer, required_int(f, p + "block_count", 1, kMaxLayers));
  CORRAL_ASSIGN_OR_RETURN(c.n_ff, required_int(f, p + "feed_forward_length", 1, kMaxFf));
  CORRAL_ASSIGN_OR_RETURN(c.n_head, required_int(f, p + "attention.head_count", 1, kMaxHeads));
  CORRAL_ASSIGN_OR_RETURN(c.n_head_kv, optional_int(f, p + "attention.head_count_kv", c.n_head, 1, c.n_head));
  if (c.n_head % c.n_head_kv != 0)
    return Status::errorf("head_count {} is not a multiple of head_count_kv {}", c.n_head, c.n_head_kv);
  CORRAL_ASSIGN_OR_RETURN(c.n_ctx_train, optional_int(f, p + "context_length", 2048, 1, kMaxCtx));
  const int64_t default_head_dim = c.n_embd / c.n_head;
  CORRAL_ASSIGN_OR_RETURN(c.head_dim, optional_int(f, p + "attention.key_length", default_head_dim, 1, kMaxEmbd));
  CORRAL_ASSIGN_OR_RETURN(int64_t v_len, optional_int(f, p + "attention.value_length", c.head_dim, 1, kMaxEmbd));
  if (v_len != c.head_dim)
    return Status::errorf("key_length {} != value_length {} is not supported yet", c.head_dim, v_len);
  CORRAL_ASSIGN_OR_RETURN(c.n_rot, optional_int(f, p + "rope.dimension_count", c.head_dim, 2, c.head_dim));
  if (c.n_rot % 2) return Status::errorf("rope.dimension_count {} is odd", c.n_rot);
  CORRAL_ASSIGN_OR_RETURN(double eps, optional_float(f, p + "attention.layer_norm_rms_epsilon", 1e-5));
  if (!(eps > 0 && eps < 1)) return Status::errorf("layer_norm_rms_epsilon {} is out of range", eps);
  c.rms_eps = static_cast<float>(eps);
  CORRAL_ASSIGN_OR_RETURN(double base, optional_float(f, p + "rope.freq_base", 10000.0));
  if (!(base > 1)) return Status::errorf("rope.freq_base {} is out of range", base);
  c.rope_base = static_cast<float>(base);
  // As llama.cpp, every architecture's cos/sin are scaled by it when present (Phi-3.5's and
  // Phi-4-mini's LongRoPE files carry sqrt(1 + ln(factor) / ln(original context))).
  CORRAL_ASSIGN_OR_RETURN(double attn_factor, optional_float(f, p + "rope.scaling.attn_factor", 1.0));
  if (!(attn_factor > 0 && attn_factor < 100))
    return Status::errorf("rope.scaling.attn_factor {} is out of range", attn_factor);
  c.rope_attn_factor = static_cast<float>(attn_factor);

  // Rope scaling: "none", "linear" (freq_scale = 1/factor) and "yarn" (the same freq_scale,
  // blended with the unscaled angles by ggml's ramp); "llama3" scaling arrives as the
  // rope_freqs tensor, which needs no key.
  const std::string scaling = f.string_or(p + "rope.scaling.type", "none");
  CORRAL_ASSIGN_OR_RETURN(double factor, optional_float(f, p + "rope.scaling.factor", 0.0));
  if (scaling == "linear" || scaling == "yarn") {
    if (!(factor > 0)) return Status::errorf("rope.scaling.factor {} is out of range", factor);
    c.rope_freq_scale = static_cast<float>(1.0 / factor);
    if (scaling == "yarn") {
      // The training context the ramp is computed for (llama.cpp's n_ctx_orig_yarn).
      CORRAL_ASSIGN_OR_RETURN(int64_t n_ctx_orig,
                              optional_int(f, p + "rope.scaling.original_context_length", c.n_ctx_train, 1, kMaxCtx));
      // ext_factor 1, beta_fast 32 and beta_slow 1 are llama.cpp's defaults for YaRN (the
      // GGUF carries none of them).
      c.rope_yarn = yarn_params(c.n_rot, n_ctx_orig, c.rope_base, /*ext_factor=*/1.0f, /*beta_fast=*/32.0f,
                                /*beta_slow=*/1.0f);
    }
  } else if (scaling != "none" && scaling != "llama3") {
    return Status::errorf("unknown rope scaling type '{}'", scaling);
  } else if (auto fs = f.get_float(p + "rope.scale_linear"); fs && fs->has_value() && **fs > 0) {
    c.rope_freq_scale = static_cast<float>(1.0 / **fs);  // older converters' key
  }
  return c;
}

Status read_moe_config(const gguf::GgufFile& f, ModelConfig& c) {
  const std::string p = c.arch + ".";
  // The largest released MoE models route over 256..384 experts.
  CORRAL_ASSIGN_OR_RETURN(c.n_expert, required_int(f, p + "expert_count", 1, kMaxExperts));
  CORRAL_ASSIGN_OR_RETURN(c.n_expert_used, required_int(f, p + "expert_used_count", 1, c.n_expert));
  CORRAL_ASSIGN_OR_RETURN(c.n_ff_exp, required_int(f, p + "expert_feed_forward_length", 1, kMaxFf));
  return Status::ok();
}

Result<int64_t> read_sliding_window(const gguf::GgufFile& f, const std::string& arch, bool required) {
  const std::string key = arch + ".attention.sliding_window";
  if (required) return required_int(f, key, 0, kMaxCtx);
  return optional_int(f, key, 0, 0, kMaxCtx);
}

Result<int64_t> read_vocab_size(const gguf::GgufFile& f) {
  const gguf::TensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb) return Status::error("missing tensor token_embd.weight");
  const int64_t n_vocab = emb->ne[1];
  if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
      tokens && tokens->size() > 0 && static_cast<int64_t>(tokens->size()) != n_vocab)
    return Status::errorf("vocabulary has {} tokens but token_embd.weight has {} rows", tokens->size(), n_vocab);
  return n_vocab;
}

}  // namespace corral::model
