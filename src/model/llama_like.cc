#include "model/llama_like.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "kernels/api.h"
#include "model/weight_binder.h"

namespace corral::model {
namespace {

// Writes n floats at element `offset` of a KV head row, in the cache's element type.
void store_kv_row(const KvStorage& kv, void* head, int64_t offset, const float* src, int64_t n) {
  if (kv.type() == DType::kF32) {
    std::memcpy(static_cast<float*>(head) + offset, src, static_cast<size_t>(n) * sizeof(float));
  } else {
    kernels::quantize_row(kv.type(), src, static_cast<uint16_t*>(head) + offset, n);
  }
}

// The first n elements of a KV head block as f32: in place for an F32 cache, else widened
// into `scratch` (one block at a time, so the f32 copy stays in L1).
const float* load_kv_block(const KvStorage& kv, const void* head, int64_t n, float* scratch) {
  if (kv.type() == DType::kF32) return static_cast<const float*>(head);
  kernels::dequantize_row(kv.type(), head, scratch, n);
  return scratch;
}

}  // namespace

Result<std::shared_ptr<Model>> LlamaLikeModel::create(std::shared_ptr<const gguf::GgufFile> file,
                                                      ModelConfig c) {
  std::shared_ptr<LlamaLikeModel> m(new LlamaLikeModel());
  WeightBinder b(*file);
  const gguf::TensorInfo* emb = file->find_tensor("token_embd.weight");
  if (!emb) return Status::error("missing tensor token_embd.weight");
  c.n_vocab = emb->ne[1];
  if (const gguf::Value* tokens = file->find("tokenizer.ggml.tokens"); tokens && tokens->size() > 0 &&
      static_cast<int64_t>(tokens->size()) != c.n_vocab)
    return Status::errorf("vocabulary has {} tokens but token_embd.weight has {} rows", tokens->size(), c.n_vocab);
  CORRAL_ASSIGN_OR_RETURN(m->tok_embd_, b.matrix("token_embd.weight", c.n_vocab, c.n_embd));
  m->layers_.resize(static_cast<size_t>(c.n_layer));
  for (int64_t il = 0; il < c.n_layer; ++il) {
    DecoderLayer& L = m->layers_[il];
    const std::string p = "blk." + std::to_string(il) + ".";
    CORRAL_ASSIGN_OR_RETURN(L.attn_norm, b.vector(p + "attn_norm.weight", c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.wq, b.matrix(p + "attn_q.weight", c.q_dim(), c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.wk, b.matrix(p + "attn_k.weight", c.kv_dim(), c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.wv, b.matrix(p + "attn_v.weight", c.kv_dim(), c.n_embd));
    if (c.has_qkv_bias) {
      CORRAL_ASSIGN_OR_RETURN(L.bq, b.vector(p + "attn_q.bias", c.q_dim()));
      CORRAL_ASSIGN_OR_RETURN(L.bk, b.vector(p + "attn_k.bias", c.kv_dim()));
      CORRAL_ASSIGN_OR_RETURN(L.bv, b.vector(p + "attn_v.bias", c.kv_dim()));
    }
    CORRAL_ASSIGN_OR_RETURN(L.wo, b.matrix(p + "attn_output.weight", c.n_embd, c.q_dim()));
    CORRAL_ASSIGN_OR_RETURN(L.ffn_norm, b.vector(p + "ffn_norm.weight", c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.w_gate, b.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.w_up, b.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd));
    CORRAL_ASSIGN_OR_RETURN(L.w_down, b.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff));
  }
  CORRAL_ASSIGN_OR_RETURN(m->output_norm_, b.vector("output_norm.weight", c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m->output_, b.optional_matrix("output.weight", c.n_vocab, c.n_embd));
  c.tied_embeddings = m->output_.data == nullptr;
  if (c.tied_embeddings) m->output_ = m->tok_embd_;
  CORRAL_ASSIGN_OR_RETURN(m->rope_freqs_, b.optional_vector("rope_freqs.weight", c.n_rot / 2));
  m->owned_ = b.release_owned();
  m->weight_bytes_ = b.bound_bytes();
  m->config_ = std::move(c);
  m->file_ = std::move(file);
  return std::shared_ptr<Model>(std::move(m));
}

std::unique_ptr<ForwardScratch> LlamaLikeModel::make_scratch() const {
  return std::make_unique<ForwardScratch>();
}

// Runs several matmuls over the same input x [n][k], encoding x once per activation format.
void LlamaLikeModel::matmul_shared_input(std::initializer_list<MatmulOut> outs, const float* x, int64_t n,
                                         ForwardScratch& s, ThreadPool& pool) const {
  const kernels::QuantizedActivations* qa = nullptr;
  DType encoded = DType::kF32;
  for (const MatmulOut& o : outs) {
    const DType at = kernels::activation_type(o.w->type);
    if (!qa || at != encoded) {
      qa = &kernels::quantize_activations(at, x, n, o.w->cols, pool, s.matmul);
      encoded = at;
    }
    kernels::matmul_quantized(*o.w, *qa, o.y, o.ldy, pool);
  }
}

// Per token, the (cos, sin) of each rotated pair, computed the way ggml does (the angle for
// pair i is pos * base^(-2i/n_rot) built by repeated float multiplication, divided by the
// llama-3 frequency factor, times freq_scale) so logits track llama.cpp's to float precision.
void LlamaLikeModel::compute_rope_tables(const ForwardBatch& batch, float* rope) const {
  const ModelConfig& c = config_;
  const float theta_scale = std::pow(c.rope_base, -2.0f / static_cast<float>(c.n_rot));
  for (size_t i = 0; i < batch.tokens.size(); ++i) {
    float* cs = rope + i * c.n_rot;
    float theta = static_cast<float>(batch.tokens[i].pos);
    for (int64_t j = 0; j < c.n_rot / 2; ++j) {
      const float ff = rope_freqs_ ? rope_freqs_[j] : 1.0f;
      const float angle = c.rope_freq_scale * (theta / ff);
      cs[2 * j] = std::cos(angle);
      cs[2 * j + 1] = std::sin(angle);
      theta *= theta_scale;
    }
  }
}

void LlamaLikeModel::apply_rope(float* x, int64_t n_heads, const float* cs) const {
  const ModelConfig& c = config_;
  const int64_t half = c.n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * c.head_dim;
    for (int64_t j = 0; j < half; ++j) {
      // Normal style rotates adjacent pairs, NEOX style pairs element j with j + n_rot/2.
      const int64_t i0 = c.rope_style == RopeStyle::kNormal ? 2 * j : j;
      const int64_t i1 = c.rope_style == RopeStyle::kNormal ? 2 * j + 1 : j + half;
      const float x0 = v[i0], x1 = v[i1];
      v[i0] = x0 * cs[2 * j] - x1 * cs[2 * j + 1];
      v[i1] = x0 * cs[2 * j + 1] + x1 * cs[2 * j];
    }
  }
}

// Causal attention of every batch token over its own sequence's positions [0, pos]. The
// batch's K/V were written to the cache first, so tokens of one sequence in the same batch see
// each other exactly as if they had been decoded one at a time.
void LlamaLikeModel::attention(int64_t il, const ForwardBatch& batch, const KvStorage& kv,
                               ForwardScratch& s, ThreadPool& pool) const {
  const ModelConfig& c = config_;
  const kernels::KernelTable& K = kernels::active();
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t group = c.n_head / c.n_head_kv;
  const int64_t hd = c.head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t n_tasks = n * c.n_head_kv;
  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    float* scores = s.scores[ith].data();        // [group][n_ctx]: the group's heads
    float* block_f32 = s.kv_block[ith].data();  // an F16 cache's block, widened once for the group
    for (int64_t task; (task = next.fetch_add(1, std::memory_order_relaxed)) < n_tasks;) {
      const int64_t i = task / c.n_head_kv, g = task % c.n_head_kv;
      const BatchToken& t = batch.tokens[i];
      const BatchSeq& seq = batch.seqs[t.seq];
      const int64_t n_ctx = t.pos + 1;
      const int64_t n_blocks = (n_ctx + kKvBlockTokens - 1) / kKvBlockTokens;
      const float* q = s.q.data() + i * c.q_dim() + g * group * hd;  // [group][hd]
      float* out = s.attn.data() + i * c.q_dim() + g * group * hd;   // [group][hd]
      // Every head of the group reads the same K and V: each block is loaded (and widened)
      // once for all of them. Per head, the operations and their order do not depend on the
      // group, so results equal a head-by-head loop's exactly.
      for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t len = std::min<int64_t>(kKvBlockTokens, n_ctx - b * kKvBlockTokens);
        const float* kb = load_kv_block(kv, kv.k(seq.blocks[b], il, g), len * hd, block_f32);
        for (int64_t h = 0; h < group; ++h) {
          float* sh = scores + h * n_ctx + b * kKvBlockTokens;
          for (int64_t j = 0; j < len; ++j) sh[j] = K.dot_f32(q + h * hd, kb + j * hd, hd) * scale;
        }
      }
      for (int64_t h = 0; h < group; ++h) K.softmax(scores + h * n_ctx, n_ctx);
      std::fill(out, out + group * hd, 0.0f);
      for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t len = std::min<int64_t>(kKvBlockTokens, n_ctx - b * kKvBlockTokens);
        const float* vb = load_kv_block(kv, kv.v(seq.blocks[b], il, g), len * hd, block_f32);
        for (int64_t h = 0; h < group; ++h) {
          const float* sh = scores + h * n_ctx + b * kKvBlockTokens;
          for (int64_t j = 0; j < len; ++j) K.axpy_f32(sh[j], vb + j * hd, out + h * hd, hd);
        }
      }
    }
  });
}

void LlamaLikeModel::forward(const ForwardBatch& batch, const KvStorage& kv, const ForwardOutput& out,
                             ForwardScratch& s, ThreadPool& pool) const {
  const ModelConfig& c = config_;
  const kernels::KernelTable& K = kernels::active();
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  if (n == 0) return;
  int64_t max_ctx = 0;
  for (const BatchToken& t : batch.tokens) {
    CORRAL_CHECK(t.token >= 0 && t.token < c.n_vocab, "token id {} out of range", t.token);
    CORRAL_CHECK(t.seq >= 0 && t.seq < static_cast<int32_t>(batch.seqs.size()), "bad seq index");
    CORRAL_CHECK(t.pos / kKvBlockTokens < batch.seqs[t.seq].n_blocks, "block table too short");
    max_ctx = std::max<int64_t>(max_ctx, t.pos + 1);
  }
  const int64_t n_out = batch.n_outputs();
  s.reserve(c, n, n_out, max_ctx, pool.size());
  const int64_t E = c.n_embd, QD = c.q_dim(), KVD = c.kv_dim(), hd = c.head_dim;

  for (int64_t i = 0; i < n; ++i) kernels::get_row(tok_embd_, batch.tokens[i].token, s.x.data() + i * E);
  compute_rope_tables(batch, s.rope.data());

  for (int64_t il = 0; il < c.n_layer; ++il) {
    const DecoderLayer& L = layers_[il];
    // Attention block.
    for (int64_t i = 0; i < n; ++i) K.rms_norm(s.x.data() + i * E, L.attn_norm, s.xn.data() + i * E, E, c.rms_eps);
    // Q, K and V read the same normed input: encode it once when their types share an
    // activation format (they always do in llama-quantize's mixes except attn_v in K_M ones).
    matmul_shared_input({{&L.wq, s.q.data(), QD}, {&L.wk, s.k.data(), KVD}, {&L.wv, s.v.data(), KVD}},
                        s.xn.data(), n, s, pool);
    for (int64_t i = 0; i < n; ++i) {
      float* qi = s.q.data() + i * QD;
      float* ki = s.k.data() + i * KVD;
      float* vi = s.v.data() + i * KVD;
      if (L.bq) {
        K.add_f32(qi, L.bq, qi, QD);
        K.add_f32(ki, L.bk, ki, KVD);
        K.add_f32(vi, L.bv, vi, KVD);
      }
      const float* cs = s.rope.data() + i * c.n_rot;
      apply_rope(qi, c.n_head, cs);
      apply_rope(ki, c.n_head_kv, cs);
      // Store this position's K and V into its sequence's block.
      const BatchToken& t = batch.tokens[i];
      const int32_t block = batch.seqs[t.seq].blocks[t.pos / kKvBlockTokens];
      const int64_t slot = t.pos % kKvBlockTokens;
      for (int64_t g = 0; g < c.n_head_kv; ++g) {
        store_kv_row(kv, kv.k(block, il, g), slot * hd, ki + g * hd, hd);
        store_kv_row(kv, kv.v(block, il, g), slot * hd, vi + g * hd, hd);
      }
    }
    attention(il, batch, kv, s, pool);
    kernels::matmul(L.wo, s.attn.data(), n, s.xn.data(), E, pool, s.matmul);
    K.add_f32(s.x.data(), s.xn.data(), s.x.data(), n * E);

    // Feed-forward block.
    for (int64_t i = 0; i < n; ++i) K.rms_norm(s.x.data() + i * E, L.ffn_norm, s.xn.data() + i * E, E, c.rms_eps);
    matmul_shared_input({{&L.w_gate, s.gate.data(), c.n_ff}, {&L.w_up, s.up.data(), c.n_ff}}, s.xn.data(), n, s,
                        pool);
    K.swiglu(s.gate.data(), s.up.data(), s.gate.data(), n * c.n_ff);
    kernels::matmul(L.w_down, s.gate.data(), n, s.xn.data(), E, pool, s.matmul);
    K.add_f32(s.x.data(), s.xn.data(), s.x.data(), n * E);
  }

  if (n_out == 0) return;
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!batch.tokens[i].logits) continue;
    K.rms_norm(s.x.data() + i * E, output_norm_, s.out_x.data() + o * E, E, c.rms_eps);
    ++o;
  }
  if (out.hidden) std::memcpy(out.hidden, s.out_x.data(), static_cast<size_t>(n_out * E) * sizeof(float));
  if (out.logits) kernels::matmul(output_, s.out_x.data(), n_out, out.logits, c.n_vocab, pool, s.matmul);
}

}  // namespace corral::model
