// general.architecture = "nomic-bert": nomic-embed-text style encoders. A post-LayerNorm BERT:
// token embedding + token type 0, LayerNorm; per layer a fused attn_qkv (q | k | v, no
// biases), NEOX rope on q and k, bidirectional attention, output projection, residual,
// LayerNorm, SwiGLU FFN (nomic's fc12 = ffn_gate, fc11 = ffn_up), residual, LayerNorm; no
// final norm. No logits: the final hidden states are pooled into an embedding (engine).
#include <cmath>
#include <initializer_list>

#include "base/check.h"
#include "kernels/api.h"
#include "model/config.h"
#include "model/encoder_blocks.h"
#include "model/forward_scratch.h"
#include "model/registry.h"
#include "model/rope.h"
#include "model/weight_binder.h"

namespace corral::model {
namespace {

struct NormWeights {
  const float* w = nullptr;  // [n_embd]
  const float* b = nullptr;  // [n_embd]
};

struct EncoderLayer {
  kernels::WeightMatrix wq;      // [q_dim][n_embd] (rows of attn_qkv)
  kernels::WeightMatrix wk;      // [kv_dim][n_embd]
  kernels::WeightMatrix wv;      // [kv_dim][n_embd]
  kernels::WeightMatrix wo;      // [n_embd][q_dim]
  NormWeights attn_out_norm;     // after the attention residual
  kernels::WeightMatrix w_gate;  // [n_ff][n_embd]
  kernels::WeightMatrix w_up;    // [n_ff][n_embd]
  kernels::WeightMatrix w_down;  // [n_embd][n_ff]
  NormWeights layer_out_norm;    // after the FFN residual
};

class NomicBertModel final : public Model {
 public:
  static Result<std::shared_ptr<Model>> create(std::shared_ptr<const gguf::GgufFile> file, ModelConfig c,
                                               float norm_eps);
  std::unique_ptr<ForwardScratch> make_scratch() const override { return std::make_unique<ForwardScratch>(); }
  void forward(const ForwardBatch& batch, const KvStorage& kv, const ForwardOutput& out, ForwardScratch& s,
               ThreadPool& pool) const override;

 private:
  NomicBertModel() = default;
  void norm_rows(const NormWeights& n, float* x, int64_t rows) const;

  kernels::WeightMatrix tok_embd_;      // [n_vocab][n_embd]
  const float* token_type0_ = nullptr;  // [n_embd] row 0 of token_types: every token is type 0
  NormWeights embd_norm_;
  std::vector<EncoderLayer> layers_;  // [n_layer]
  float norm_eps_ = 1e-12f;
  std::vector<std::vector<float>> owned_;  // 1-D tensors converted to f32
};

Result<NormWeights> bind_norm(WeightBinder& b, const std::string& name, int64_t n) {
  NormWeights nw;
  CORRAL_ASSIGN_OR_RETURN(nw.w, b.vector(name + ".weight", n));
  CORRAL_ASSIGN_OR_RETURN(nw.b, b.vector(name + ".bias", n));
  return nw;
}

Result<std::shared_ptr<Model>> NomicBertModel::create(std::shared_ptr<const gguf::GgufFile> file, ModelConfig c,
                                                      float norm_eps) {
  std::shared_ptr<NomicBertModel> m(new NomicBertModel());
  WeightBinder b(*file);
  CORRAL_ASSIGN_OR_RETURN(c.n_vocab, read_vocab_size(*file));
  CORRAL_ASSIGN_OR_RETURN(m->tok_embd_, b.matrix("token_embd.weight", c.n_vocab, c.n_embd));
  // token_types is [n_types][n_embd]; only type 0 is ever used, so row 0 is bound alone.
  const gguf::TensorInfo* types = file->find_tensor("token_types.weight");
  if (!types) return Status::error("missing tensor token_types.weight");
  if (types->n_dims != 2 || types->ne[0] != c.n_embd || types->ne[1] < 1 || types->type != DType::kF32)
    return Status::errorf("tensor token_types.weight has shape {} and type {}, expected f32 [{}, n_types]",
                          types->shape_string(), dtype_name(types->type), c.n_embd);
  m->token_type0_ = reinterpret_cast<const float*>(types->data);
  CORRAL_ASSIGN_OR_RETURN(m->embd_norm_, bind_norm(b, "token_embd_norm", c.n_embd));
  m->layers_.resize(static_cast<size_t>(c.n_layer));
  for (int64_t il = 0; il < c.n_layer; ++il) {
    EncoderLayer& L = m->layers_[static_cast<size_t>(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    CORRAL_ASSIGN_OR_RETURN(kernels::WeightMatrix qkv, b.matrix(p + "attn_qkv.weight", c.q_dim() + 2 * c.kv_dim(),
                                                                c.n_embd, whole_groups({c.q_dim(), c.kv_dim()})));
    L.wq = row_slice(qkv, 0, c.q_dim());
    L.wk = row_slice(qkv, c.q_dim(), c.kv_dim());
    L.wv = row_slice(qkv, c.q_dim() + c.kv_dim(), c.kv_dim());
    CORRAL_ASSIGN_OR_RETURN(L.wo, b.matrix(p + "attn_output.weight", c.n_embd, c.q_dim()));
    CORRAL_ASSIGN_OR_RETURN(L.attn_out_norm, bind_norm(b, p + "attn_output_norm", c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.w_gate, b.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.w_up, b.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.w_down, b.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff));
    CORRAL_ASSIGN_OR_RETURN(L.layer_out_norm, bind_norm(b, p + "layer_output_norm", c.n_embd));
  }
  m->norm_eps_ = norm_eps;
  m->owned_ = b.release_owned();
  m->weight_bytes_ = b.bound_bytes() + types->nbytes;
  m->config_ = std::move(c);
  m->file_ = std::move(file);
  return std::shared_ptr<Model>(std::move(m));
}

void NomicBertModel::norm_rows(const NormWeights& nw, float* x, int64_t rows) const {
  const int64_t E = config_.n_embd;
  for (int64_t i = 0; i < rows; ++i) layer_norm(x + i * E, nw.w, nw.b, x + i * E, E, norm_eps_);
}

// Encodes x [n][k] once per activation format and multiplies it by each weight (q, k and v;
// gate and up read the same input).
void matmuls_of(std::initializer_list<std::pair<const kernels::WeightMatrix*, float*>> outs, const float* x, int64_t n,
                ForwardScratch& s, ThreadPool& pool) {
  const kernels::QuantizedActivations* qa = nullptr;
  DType encoded = DType::kF32;
  for (const auto& [w, y] : outs) {
    const DType at = kernels::activation_type(w->type);
    if (!qa || at != encoded) {
      qa = &kernels::quantize_activations(at, x, n, w->cols, pool, s.matmul);
      encoded = at;
    }
    kernels::matmul_quantized(*w, *qa, y, w->rows, pool);
  }
}

void NomicBertModel::forward(const ForwardBatch& batch, const KvStorage& /*kv: an encoder caches nothing*/,
                             const ForwardOutput& out, ForwardScratch& s, ThreadPool& pool) const {
  const ModelConfig& c = config_;
  const kernels::KernelTable& K = kernels::active();
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  if (n == 0) return;
  CORRAL_CHECK(out.logits == nullptr, "an encoder has no logits");
  int64_t max_len = 0;
  for (const BatchToken& t : batch.tokens) {
    CORRAL_CHECK(t.token >= 0 && t.token < c.n_vocab, "token id {} out of range", t.token);
    CORRAL_CHECK(t.seq >= 0 && t.seq < static_cast<int32_t>(batch.seqs.size()), "bad seq index");
    max_len = std::max<int64_t>(max_len, t.pos + 1);
  }
  s.reserve(c, n, batch.n_outputs(), max_len, pool.size());
  const int64_t E = c.n_embd, QD = c.q_dim(), KVD = c.kv_dim(), hd = c.head_dim;

  for (int64_t i = 0; i < n; ++i) {
    float* xi = s.x.data() + i * E;
    kernels::get_row(tok_embd_, batch.tokens[i].token, xi);
    K.add_f32(xi, token_type0_, xi, E);
  }
  norm_rows(embd_norm_, s.x.data(), n);
  compute_rope_table(batch, c.rope(0), c.n_rot, nullptr, s.rope.data());
  const float attn_scale = 1.0f / std::sqrt(static_cast<float>(hd));

  for (const EncoderLayer& L : layers_) {
    matmuls_of({{&L.wq, s.q.data()}, {&L.wk, s.k.data()}, {&L.wv, s.v.data()}}, s.x.data(), n, s, pool);
    for (int64_t i = 0; i < n; ++i) {
      const float* cs = s.rope.data() + i * c.n_rot;
      apply_rope(s.q.data() + i * QD, c.n_head, hd, c.n_rot, c.rope_style, cs);
      apply_rope(s.k.data() + i * KVD, c.n_head_kv, hd, c.n_rot, c.rope_style, cs);
    }
    bidirectional_attention(c, attn_scale, batch, s, pool);
    kernels::matmul(L.wo, s.attn.data(), n, s.xn.data(), E, pool, s.matmul);
    K.add_f32(s.x.data(), s.xn.data(), s.x.data(), n * E);
    norm_rows(L.attn_out_norm, s.x.data(), n);

    matmuls_of({{&L.w_gate, s.gate.data()}, {&L.w_up, s.up.data()}}, s.x.data(), n, s, pool);
    K.swiglu(s.gate.data(), s.up.data(), s.gate.data(), n * c.n_ff);
    kernels::matmul(L.w_down, s.gate.data(), n, s.xn.data(), E, pool, s.matmul);
    K.add_f32(s.x.data(), s.xn.data(), s.x.data(), n * E);
    norm_rows(L.layer_out_norm, s.x.data(), n);
  }

  if (!out.hidden) return;
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i)
    if (batch.tokens[i].logits) std::copy_n(s.x.data() + i * E, E, out.hidden + (o++) * E);
}

}  // namespace

Result<std::shared_ptr<Model>> load_nomic_bert(std::shared_ptr<const gguf::GgufFile> file) {
  const std::string arch = "nomic-bert";
  CORRAL_ASSIGN_OR_RETURN(ModelConfig c, read_llama_family_config(*file, arch));
  if (c.n_head_kv != c.n_head) return Status::error("nomic-bert: grouped KV heads are not supported yet");
  c.rope_style = RopeStyle::kNeox;
  CORRAL_ASSIGN_OR_RETURN(std::optional<bool> causal, file->get_bool(arch + ".attention.causal"));
  if (causal.value_or(false)) return Status::error("nomic-bert: a causal encoder is not supported yet");
  c.causal = false;
  // pooling_type as llama.cpp numbers it: 0 none, 1 mean, 2 cls, 3 last, 4 rank. Files without
  // it mean-pool, as every nomic-embed-text release does.
  const int64_t pooling = file->int_or(arch + ".pooling_type", 1);
  if (pooling == 1) c.pooling = Pooling::kMean;
  else if (pooling == 2) c.pooling = Pooling::kCls;
  else return Status::errorf("nomic-bert: pooling_type {} is not supported yet (supported: 1 mean, 2 cls)", pooling);
  // LayerNorm epsilon (BERT's 1e-12 when absent).
  CORRAL_ASSIGN_OR_RETURN(std::optional<double> eps, file->get_float(arch + ".attention.layer_norm_epsilon"));
  const double norm_eps = eps.value_or(1e-12);
  if (!(norm_eps > 0 && norm_eps < 1))
    return Status::errorf("nomic-bert: layer_norm_epsilon {} is out of range", norm_eps);
  return NomicBertModel::create(std::move(file), std::move(c), static_cast<float>(norm_eps));
}

}  // namespace corral::model
