#include "tools/synthetic.h"

#include <cmath>
#include <cstring>
#include <numbers>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "kernels/api.h"

namespace corral::model {
namespace {

// llama.cpp's file_type (llama_ftype) numbers, written to general.file_type.
int64_t ftype_of(const SynthSpec& s) {
  if (s.mix == SynthMix::kQ4_K_M) return 15;
  if (s.mix == SynthMix::kQ5_K_M) return 17;
  switch (s.type) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ4_1: return 3;
    case DType::kQ8_0: return 7;
    case DType::kQ5_0: return 8;
    case DType::kQ5_1: return 9;
    case DType::kQ2_K: return 10;
    case DType::kQ3_K: return 12;
    case DType::kQ4_K: return 15;
    case DType::kQ5_K: return 17;
    case DType::kQ6_K: return 18;
    case DType::kBF16: return 32;
    default: return -1;
  }
}

// llama-quantize's "use more bits" rule for attn_v / ffn_down in the K_M mixes: the first and
// last eighth of the layers and every third layer in between.
bool more_bits(int64_t il, int64_t n_layer) {
  return il < n_layer / 8 || il >= 7 * n_layer / 8 || (il - n_layer / 8) % 3 == 2;
}

DType matrix_type(const SynthSpec& s, const std::string& role, int64_t il) {
  if (s.mix == SynthMix::kUniform) return s.type;
  const DType base = s.mix == SynthMix::kQ4_K_M ? DType::kQ4_K : DType::kQ5_K;
  if (role == "output" || (role == "token_embd" && s.tied_embeddings)) return DType::kQ6_K;
  // llama-quantize spends more bits on the attention of 8-expert models (Mixtral's shape): it
  // is a small share of their weights. 128-expert models (Qwen3-30B-A3B) keep the plain mix.
  if (s.n_expert == 8) {
    if (role == "attn_k" || role == "attn_v") return DType::kQ8_0;
    if (role == "attn_output") return DType::kQ5_K;
  }
  if ((role == "attn_v" || role == "ffn_down" || role == "ffn_down_exps") && more_bits(il, s.n_layer))
    return DType::kQ6_K;
  return base;
}

// llama-quantize's replacement when a row is not whole 256-value K-quant blocks (Gemma-3-1B's
// 1152 columns): a 32-value block type of about the same size.
DType k_quant_fallback(DType t) {
  switch (t) {
    case DType::kQ2_K:
    case DType::kQ3_K: return DType::kIQ4_NL;
    case DType::kQ4_K: return DType::kQ5_0;
    case DType::kQ5_K: return DType::kQ5_1;
    default: return DType::kQ8_0;  // Q6_K and anything else
  }
}

// Random normal rows quantized to `type`, rows spread over the pool. Each row gets its own
// seeded generator, so files are reproducible whatever the thread count.
std::string random_matrix(DType type, int64_t rows, int64_t cols, float stddev, uint64_t seed) {
  const size_t row_bytes = dtype_row_bytes(type, cols);
  std::string out(row_bytes * static_cast<size_t>(rows), '\0');
  ThreadPool::global().parallel_for(rows, 64, [&](int64_t b, int64_t e) {
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = b; r < e; ++r) {
      std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(r));
      std::normal_distribution<float> dist(0.0f, stddev);
      for (float& v : row) v = dist(rng);
      kernels::quantize_row(type, row.data(), out.data() + static_cast<size_t>(r) * row_bytes, cols);
    }
  });
  return out;
}

std::string norm_vector(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.1f);
  std::string out(static_cast<size_t>(n) * 4, '\0');
  auto* f = reinterpret_cast<float*>(out.data());
  for (int64_t i = 0; i < n; ++i) f[i] = 1.0f + dist(rng);
  return out;
}

// Llama-3.1 rope frequency factors as llama.cpp's converter computes them (factor 8,
// low_freq_factor 1, high_freq_factor 4, original context 8192).
std::string llama3_rope_freqs(int64_t head_dim, float base) {
  constexpr double kFactor = 8, kLow = 1, kHigh = 4, kOldCtx = 8192;
  const double low_wavelen = kOldCtx / kLow, high_wavelen = kOldCtx / kHigh;
  std::string out(static_cast<size_t>(head_dim / 2) * 4, '\0');
  auto* f = reinterpret_cast<float*>(out.data());
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double freq = 1.0 / std::pow(base, 2.0 * i / head_dim);
    const double wavelen = 2 * std::numbers::pi / freq;
    double factor;
    if (wavelen < high_wavelen) factor = 1;
    else if (wavelen > low_wavelen) factor = kFactor;
    else {
      const double smooth = (kOldCtx / wavelen - kLow) / (kHigh - kLow);
      factor = 1 / ((1 - smooth) / kFactor + smooth);
    }
    f[i] = static_cast<float>(factor);
  }
  return out;
}

Status copy_vocab(const std::string& path, gguf::GgufWriter& w, int64_t* n_vocab) {
  auto f = gguf::GgufFile::open(path);
  if (!f) return f.status();
  for (const auto& [key, v] : (*f)->metadata())
    if (key.rfind("tokenizer.", 0) == 0) w.set(key, v);
  const gguf::Value* tokens = (*f)->find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->strings()) return Status::errorf("{} has no tokenizer.ggml.tokens", path);
  *n_vocab = static_cast<int64_t>(tokens->size());
  return Status::ok();
}

// A byte-level BPE vocabulary without merges: every byte is a token (GPT-2's byte-to-unicode
// symbols) plus a few control tokens. Enough for any text to tokenize.
void byte_vocab(gguf::GgufWriter& w, int64_t n_vocab) {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  int shifted = 0;  // GPT-2 maps printable bytes to themselves and the rest to U+0100 + n
  for (int b = 0; b < 256; ++b) {
    uint32_t cp;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) cp = static_cast<uint32_t>(b);
    else cp = 256 + static_cast<uint32_t>(shifted++);
    std::string s;
    if (cp < 0x80) s += static_cast<char>(cp);
    else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    tokens.push_back(s);
    types.push_back(1);
  }
  while (static_cast<int64_t>(tokens.size()) < n_vocab - 2) {
    tokens.push_back("<|reserved_" + std::to_string(tokens.size()) + "|>");
    types.push_back(4);
  }
  tokens.push_back("<|begin_of_text|>");
  types.push_back(3);
  tokens.push_back("<|end_of_text|>");
  types.push_back(3);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "llama-bpe");
  w.set("tokenizer.ggml.tokens", gguf::Value::string_array(std::move(tokens)));
  w.set("tokenizer.ggml.token_type", gguf::Value::int_array(gguf::ValueType::kInt32, std::move(types)));
  w.set("tokenizer.ggml.merges", gguf::Value::string_array({}));
  w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(n_vocab - 2));
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(n_vocab - 1));
  w.set_bool("tokenizer.ggml.add_bos_token", true);
}

// The head size and the attention projections' widths: q [n_head * hd], k and v [n_head_kv * hd].
struct AttnDims {
  int64_t hd, q_dim, kv_dim;
};

Status check_spec(const SynthSpec& s) {
  if (s.arch != "llama" && s.arch != "qwen2" && s.arch != "qwen3" && s.arch != "qwen3moe" && s.arch != "gemma3")
    return Status::errorf("synthetic arch '{}' is not supported", s.arch);
  if (s.n_head <= 0 || s.n_head_kv <= 0 || (s.head_dim <= 0 && s.n_embd % s.n_head) || s.n_head % s.n_head_kv)
    return Status::error("n_embd must be a multiple of n_head (or head_dim given), and n_head of n_head_kv");
  if (s.arch == "qwen3moe" &&
      (s.n_expert <= 0 || s.n_expert_used <= 0 || s.n_expert_used > s.n_expert || s.n_ff_exp <= 0))
    return Status::error("qwen3moe needs n_expert > 0, 0 < n_expert_used <= n_expert and n_ff_exp > 0");
  return Status::ok();
}

// The general.* and <arch>.* hyperparameter keys.
void write_hparams(gguf::GgufWriter& w, const SynthSpec& s, int64_t hd) {
  const std::string a = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_string("general.name", s.name);
  w.set_string("general.description", "random-weight synthetic model written by corral synth (not trained)");
  w.set_u32("general.file_type", static_cast<uint32_t>(ftype_of(s)));
  // llama.cpp writes the quantization format version (2 since its 2023 Q4/Q5/Q8 change) into
  // every file with quantized tensors.
  if (s.mix != SynthMix::kUniform || dtype_traits(s.type).quantized) w.set_u32("general.quantization_version", 2);
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.set_f32(a + "rope.freq_base", s.rope_base);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(hd));
  const bool qwen3 = s.arch == "qwen3" || s.arch == "qwen3moe";
  if (s.head_dim > 0 || qwen3) {  // llama.cpp's Qwen3 converter always writes the head size
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(hd));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(hd));
  }
  if (s.arch == "gemma3") w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(s.sliding_window));
  if (s.arch == "qwen3moe") {
    w.set_u32(a + "expert_count", static_cast<uint32_t>(s.n_expert));
    w.set_u32(a + "expert_used_count", static_cast<uint32_t>(s.n_expert_used));
    w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(s.n_ff_exp));
  }
}

// The tokenizer keys (copied from a model file, or a byte vocabulary); returns n_vocab.
Result<int64_t> write_vocab(gguf::GgufWriter& w, const SynthSpec& s) {
  int64_t n_vocab = s.n_vocab > 0 ? s.n_vocab : 512;
  if (!s.vocab_path.empty()) {
    CORRAL_RETURN_IF_ERROR(copy_vocab(s.vocab_path, w, &n_vocab));
  } else {
    if (n_vocab < 258) return Status::error("a synthetic byte vocabulary needs at least 258 tokens");
    byte_vocab(w, n_vocab);
  }
  w.set_u32(s.arch + ".vocab_size", static_cast<uint32_t>(n_vocab));
  return n_vocab;
}

// Adds random tensors, each drawn from the next seed: the order of the calls fixes every
// weight, so one spec always writes the same file.
class RandomTensors {
 public:
  RandomTensors(gguf::GgufWriter& w, const SynthSpec& s) : w_(w), s_(s), seed_(s.seed) {}

  // n_mat > 1: n_mat matrices of [rows][cols] stacked in one 3-D tensor (the experts).
  Status matrix(const std::string& name, const std::string& role, int64_t il, int64_t rows, int64_t cols, float sd,
                int64_t n_mat = 1) {
    DType t = matrix_type(s_, role, il);
    if (cols % dtype_traits(t).block_size != 0) t = k_quant_fallback(t);
    if (cols % dtype_traits(t).block_size != 0)
      return Status::errorf("{}: {} columns are not whole {} blocks", name, cols, dtype_traits(t).name);
    std::vector<int64_t> ne = {cols, rows};
    if (n_mat > 1) ne.push_back(n_mat);
    w_.add_tensor(name, t, std::move(ne), random_matrix(t, rows * n_mat, cols, sd, ++seed_));
    return Status::ok();
  }
  // An F32 norm weight [len], ~ N(1, 0.1).
  void norm(const std::string& name, int64_t len) {
    w_.add_tensor(name, DType::kF32, {len}, norm_vector(len, ++seed_));
  }
  // An F32 bias [len], ~ N(0, 0.1).
  void bias(const std::string& name, int64_t len) {
    std::string b = norm_vector(len, ++seed_);
    for (size_t i = 0; i < b.size(); i += 4) {
      float v;
      std::memcpy(&v, b.data() + i, 4);
      v -= 1.0f;
      std::memcpy(b.data() + i, &v, 4);
    }
    w_.add_tensor(name, DType::kF32, {len}, b);
  }
  // An F32 matrix [rows][cols] that no quantization mix touches.
  void f32_matrix(const std::string& name, int64_t rows, int64_t cols, float sd) {
    w_.add_tensor(name, DType::kF32, {cols, rows}, random_matrix(DType::kF32, rows, cols, sd, ++seed_));
  }

 private:
  gguf::GgufWriter& w_;
  const SynthSpec& s_;
  uint64_t seed_;
};

// A layer's feed-forward block: dense, or (qwen3moe) the router and the stacked experts.
Status write_ffn(RandomTensors& t, const SynthSpec& s, const std::string& p, int64_t il) {
  if (s.arch != "qwen3moe") {
    CORRAL_RETURN_IF_ERROR(t.matrix(p + "ffn_gate.weight", "ffn_gate", il, s.n_ff, s.n_embd, 0.05f));
    CORRAL_RETURN_IF_ERROR(t.matrix(p + "ffn_up.weight", "ffn_up", il, s.n_ff, s.n_embd, 0.05f));
    return t.matrix(p + "ffn_down.weight", "ffn_down", il, s.n_embd, s.n_ff, 0.05f);
  }
  // The router stays F32 in every llama-quantize mix (it never quantizes ffn_gate_inp);
  // std 0.25 spreads the softmax so different tokens pick different experts.
  t.f32_matrix(p + "ffn_gate_inp.weight", s.n_expert, s.n_embd, 0.25f);
  CORRAL_RETURN_IF_ERROR(
      t.matrix(p + "ffn_gate_exps.weight", "ffn_gate_exps", il, s.n_ff_exp, s.n_embd, 0.05f, s.n_expert));
  CORRAL_RETURN_IF_ERROR(
      t.matrix(p + "ffn_up_exps.weight", "ffn_up_exps", il, s.n_ff_exp, s.n_embd, 0.05f, s.n_expert));
  return t.matrix(p + "ffn_down_exps.weight", "ffn_down_exps", il, s.n_embd, s.n_ff_exp, 0.05f, s.n_expert);
}

// Layer il's tensors in llama.cpp's order: attention (with qwen2's biases, the QK-norms of
// gemma3 and qwen3, gemma3's post-norms), then the feed-forward block.
Status write_layer(RandomTensors& t, const SynthSpec& s, const AttnDims& d, int64_t il) {
  const bool gemma = s.arch == "gemma3", qwen3 = s.arch == "qwen3" || s.arch == "qwen3moe";
  const std::string p = "blk." + std::to_string(il) + ".";
  t.norm(p + "attn_norm.weight", s.n_embd);
  CORRAL_RETURN_IF_ERROR(t.matrix(p + "attn_q.weight", "attn_q", il, d.q_dim, s.n_embd, 0.08f));
  CORRAL_RETURN_IF_ERROR(t.matrix(p + "attn_k.weight", "attn_k", il, d.kv_dim, s.n_embd, 0.08f));
  CORRAL_RETURN_IF_ERROR(t.matrix(p + "attn_v.weight", "attn_v", il, d.kv_dim, s.n_embd, 0.05f));
  if (s.arch == "qwen2") {
    t.bias(p + "attn_q.bias", d.q_dim);
    t.bias(p + "attn_k.bias", d.kv_dim);
    t.bias(p + "attn_v.bias", d.kv_dim);
  }
  if (gemma || qwen3) {  // QK-norm: one weight per head dimension, shared by the heads
    t.norm(p + "attn_q_norm.weight", d.hd);
    t.norm(p + "attn_k_norm.weight", d.hd);
  }
  if (gemma) {  // the post-attention / post-FFN norms
    t.norm(p + "post_attention_norm.weight", s.n_embd);
    t.norm(p + "post_ffw_norm.weight", s.n_embd);
  }
  CORRAL_RETURN_IF_ERROR(t.matrix(p + "attn_output.weight", "attn_output", il, s.n_embd, d.q_dim, 0.05f));
  t.norm(p + "ffn_norm.weight", s.n_embd);
  return write_ffn(t, s, p, il);
}

}  // namespace

bool synth_preset(const std::string& name, SynthSpec* s) {
  if (name == "llama3.2-1b") {
    s->n_embd = 2048, s->n_layer = 16, s->n_head = 32, s->n_head_kv = 8, s->n_ff = 8192;
  } else if (name == "llama3.2-3b") {
    s->n_embd = 3072, s->n_layer = 28, s->n_head = 24, s->n_head_kv = 8, s->n_ff = 8192;
  } else if (name == "gemma3-1b") {
    // google/gemma-3-1b-it's config: hidden 1152, 26 layers, 4 heads of 256, 1 KV head,
    // intermediate 6912, sliding window 512 (every 6th layer global), 32K context.
    s->arch = "gemma3";
    s->n_embd = 1152, s->n_layer = 26, s->n_head = 4, s->n_head_kv = 1, s->n_ff = 6912, s->head_dim = 256;
    s->n_ctx = 32768, s->rope_base = 1000000.0f, s->rms_eps = 1e-6f, s->sliding_window = 512;
    s->llama3_rope_scaling = false;
    s->n_vocab = 262144;  // Gemma 3's tokenizer (the byte vocabulary is padded to it)
  } else if (name == "qwen3-1.7b") {
    // Qwen/Qwen3-1.7B's config: hidden 2048, 28 layers, 16 heads of 128 (q dim 2048), 8 KV
    // heads, intermediate 6144, rope theta 1e6, rms eps 1e-6, 40960 positions, tied embeddings,
    // vocab 151936 (ggml-vocab-qwen2.gguf has exactly that many tokens).
    s->arch = "qwen3";
    s->n_embd = 2048, s->n_layer = 28, s->n_head = 16, s->n_head_kv = 8, s->n_ff = 6144, s->head_dim = 128;
    s->n_ctx = 40960, s->rope_base = 1000000.0f, s->rms_eps = 1e-6f, s->llama3_rope_scaling = false;
    s->tied_embeddings = true, s->n_vocab = 151936;
  } else if (name == "qwen3moe-30b-a3b-slim") {
    // Qwen/Qwen3-30B-A3B's layer shape: hidden 2048, 32 heads of 128 (q dim 4096), 4 KV heads,
    // 128 experts of intermediate 768, top 8, no shared expert, untied output, vocab 151936.
    // 4 of its 48 layers: the Q4_K_M file is ~1.9 GB instead of ~18.6 GB, small enough for a
    // test box, while each decode step still reads real-sized expert slices.
    s->arch = "qwen3moe";
    s->n_embd = 2048, s->n_layer = 4, s->n_head = 32, s->n_head_kv = 4, s->n_ff = 6144, s->head_dim = 128;
    s->n_expert = 128, s->n_expert_used = 8, s->n_ff_exp = 768;
    s->n_ctx = 40960, s->rope_base = 1000000.0f, s->rms_eps = 1e-6f, s->llama3_rope_scaling = false;
    s->tied_embeddings = false, s->n_vocab = 151936;
  } else if (name == "tiny") {
    s->n_embd = 256, s->n_layer = 4, s->n_head = 8, s->n_head_kv = 2, s->n_ff = 768;
  } else if (name == "qwen3-tiny") {  // the shape of ../shared's syn-qwen3 (q dim 512 != n_embd)
    s->arch = "qwen3";
    s->n_embd = 256, s->n_layer = 2, s->n_head = 8, s->n_head_kv = 2, s->n_ff = 512, s->head_dim = 64;
    s->n_ctx = 40960, s->rope_base = 1000000.0f, s->rms_eps = 1e-6f, s->llama3_rope_scaling = false;
  } else if (name == "qwen3moe-tiny") {  // the shape of ../shared's syn-qwen3moe (8 experts, top 2)
    s->arch = "qwen3moe";
    s->n_embd = 256, s->n_layer = 2, s->n_head = 4, s->n_head_kv = 2, s->n_ff = 768, s->head_dim = 64;
    s->n_expert = 8, s->n_expert_used = 2, s->n_ff_exp = 256;
    s->n_ctx = 40960, s->rope_base = 1000000.0f, s->rms_eps = 1e-6f, s->llama3_rope_scaling = false;
  } else if (name == "gemma3-tiny") {  // one local/global cycle: 5 sliding-window layers + 1 global
    s->arch = "gemma3";
    s->n_embd = 256, s->n_layer = 6, s->n_head = 4, s->n_head_kv = 1, s->n_ff = 256, s->head_dim = 64;
    s->n_ctx = 32768, s->rope_base = 1000000.0f, s->rms_eps = 1e-6f, s->sliding_window = 32;
    s->llama3_rope_scaling = false;
  } else {
    return false;
  }
  return true;
}

bool parse_synth_type(const std::string& t, SynthSpec* s) {
  if (t == "q4_k_m" || t == "Q4_K_M") {
    s->mix = SynthMix::kQ4_K_M;
    return true;
  }
  if (t == "q5_k_m" || t == "Q5_K_M") {
    s->mix = SynthMix::kQ5_K_M;
    return true;
  }
  DType d;
  if (!dtype_from_name(t, &d) || !dtype_traits(d).supported || d == DType::kQ8_1 || d == DType::kQ8_K) return false;
  s->mix = SynthMix::kUniform;
  s->type = d;
  return true;
}

Status write_synthetic_model(const SynthSpec& s, const std::string& path) {
  CORRAL_RETURN_IF_ERROR(check_spec(s));
  AttnDims d;
  d.hd = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
  d.q_dim = d.hd * s.n_head;
  d.kv_dim = d.hd * s.n_head_kv;
  gguf::GgufWriter w;
  write_hparams(w, s, d.hd);
  CORRAL_ASSIGN_OR_RETURN(const int64_t n_vocab, write_vocab(w, s));

  RandomTensors t(w, s);
  CORRAL_RETURN_IF_ERROR(
      t.matrix("token_embd.weight", "token_embd", 0, n_vocab, s.n_embd, s.tied_embeddings ? 0.25f : 1.0f));
  if (s.llama3_rope_scaling)
    w.add_tensor("rope_freqs.weight", DType::kF32, {d.hd / 2}, llama3_rope_freqs(d.hd, s.rope_base));
  for (int64_t il = 0; il < s.n_layer; ++il) CORRAL_RETURN_IF_ERROR(write_layer(t, s, d, il));
  t.norm("output_norm.weight", s.n_embd);
  if (!s.tied_embeddings) CORRAL_RETURN_IF_ERROR(t.matrix("output.weight", "output", 0, n_vocab, s.n_embd, 0.25f));
  return w.write_file(path);
}

}  // namespace corral::model
