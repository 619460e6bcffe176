#include "model/moe_ffn.h"

#include <algorithm>
#include <cstring>

#include "kernels/api.h"
#include "model/ffn_activation.h"

namespace corral::model {

Result<MoeWeights> bind_moe(WeightBinder& b, const std::string& p, const ModelConfig& c) {
  MoeWeights m;
  // The router stays F32 in llama-quantize's mixes; any matmul type is accepted.
  CORRAL_ASSIGN_OR_RETURN(m.router, b.matrix(p + "ffn_gate_inp.weight", c.n_expert, c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m.gate, b.experts(p + "ffn_gate_exps.weight", c.n_expert, c.n_ff_exp, c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m.up, b.experts(p + "ffn_up_exps.weight", c.n_expert, c.n_ff_exp, c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m.down, b.experts(p + "ffn_down_exps.weight", c.n_expert, c.n_embd, c.n_ff_exp));
  if (c.moe_biases) {
    CORRAL_ASSIGN_OR_RETURN(m.router_bias, b.vector(p + "ffn_gate_inp.bias", c.n_expert));
    CORRAL_ASSIGN_OR_RETURN(m.gate_bias, b.rows(p + "ffn_gate_exps.bias", c.n_expert, c.n_ff_exp));
    CORRAL_ASSIGN_OR_RETURN(m.up_bias, b.rows(p + "ffn_up_exps.bias", c.n_expert, c.n_ff_exp));
    CORRAL_ASSIGN_OR_RETURN(m.down_bias, b.rows(p + "ffn_down_exps.bias", c.n_expert, c.n_embd));
  }
  return m;
}

namespace {

// ids[n_used] = the indices of the n_used largest scores, largest first, ties to the lower index.
void top_k(const float* scores, int64_t n, int64_t n_used, int32_t* ids) {
  for (int64_t k = 0; k < n_used; ++k) {
    int32_t best = -1;
    for (int32_t e = 0; e < n; ++e) {
      if (std::find(ids, ids + k, e) != ids + k) continue;
      if (best < 0 || scores[e] > scores[best]) best = e;
    }
    ids[k] = best;
  }
}

}  // namespace

void select_experts_softmax_after_topk(const float* logits, int64_t n_expert, int64_t n_used, int32_t* ids, float* w) {
  top_k(logits, n_expert, n_used, ids);
  for (int64_t k = 0; k < n_used; ++k) w[k] = logits[ids[k]];
  kernels::active().softmax(w, n_used);
}

void select_experts(const float* probs, int64_t n_expert, int64_t n_used, int32_t* ids, float* w) {
  top_k(probs, n_expert, n_used, ids);
  // As llama.cpp: the selected probabilities summed in selection order, then each divided.
  float sum = 0;
  for (int64_t k = 0; k < n_used; ++k) sum += probs[ids[k]];
  for (int64_t k = 0; k < n_used; ++k) w[k] = probs[ids[k]] / sum;
}

void moe_ffn(const MoeWeights& m, const ModelConfig& c, const float* xn, int64_t n, float* out, ForwardScratch& s,
             ThreadPool& pool) {
  const kernels::KernelTable& K = kernels::active();
  const int64_t E = c.n_embd, NE = c.n_expert, KU = c.n_expert_used, F = c.n_ff_exp;
  // Router: logits per expert, then the selected experts and their weights.
  kernels::matmul(m.router, xn, n, s.moe_logits.data(), NE, pool, s.matmul);
  for (int64_t i = 0; i < n; ++i) {
    float* p = s.moe_logits.data() + i * NE;
    if (m.router_bias) K.add_f32(p, m.router_bias, p, NE);
    int32_t* ids = s.moe_ids.data() + i * KU;
    float* w = s.moe_w.data() + i * KU;
    if (c.moe_gating == MoeGating::kTopKSoftmax) {
      select_experts_softmax_after_topk(p, NE, KU, ids, w);
    } else {
      K.softmax(p, NE);
      select_experts(p, NE, KU, ids, w);
    }
  }
  // Each expert once: gather its tokens' rows, run its FFN over all of them, scatter the
  // results to moe_y [n][n_expert_used][n_embd] (token i's slot k).
  for (int32_t e = 0; e < NE; ++e) {
    int64_t cnt = 0;
    for (int64_t r = 0; r < n * KU; ++r) {
      if (s.moe_ids[static_cast<size_t>(r)] != e) continue;
      s.moe_rows[static_cast<size_t>(cnt)] = static_cast<int32_t>(r);
      std::memcpy(s.moe_x.data() + cnt * E, xn + (r / KU) * E, static_cast<size_t>(E) * sizeof(float));
      ++cnt;
    }
    if (cnt == 0) continue;
    const kernels::WeightMatrix& wg = m.gate[static_cast<size_t>(e)];
    const kernels::WeightMatrix& wu = m.up[static_cast<size_t>(e)];
    const DType at = kernels::activation_type(wg.type);
    const kernels::QuantizedActivations* qa =
        &kernels::quantize_activations(at, s.moe_x.data(), cnt, E, pool, s.matmul);
    kernels::matmul_quantized(wg, *qa, s.gate.data(), F, pool);
    if (kernels::activation_type(wu.type) != at)
      qa = &kernels::quantize_activations(kernels::activation_type(wu.type), s.moe_x.data(), cnt, E, pool, s.matmul);
    kernels::matmul_quantized(wu, *qa, s.up.data(), F, pool);
    if (m.gate_bias) {
      for (int64_t j = 0; j < cnt; ++j) {
        K.add_f32(s.gate.data() + j * F, m.gate_bias + e * F, s.gate.data() + j * F, F);
        K.add_f32(s.up.data() + j * F, m.up_bias + e * F, s.up.data() + j * F, F);
      }
    }
    gated_activation(c.ffn_act, s.gate.data(), s.up.data(), s.gate.data(), cnt * F);
    kernels::matmul(m.down[static_cast<size_t>(e)], s.gate.data(), cnt, s.moe_x.data(), E, pool, s.matmul);
    if (m.down_bias)
      for (int64_t j = 0; j < cnt; ++j)
        K.add_f32(s.moe_x.data() + j * E, m.down_bias + e * E, s.moe_x.data() + j * E, E);
    for (int64_t j = 0; j < cnt; ++j)
      std::memcpy(s.moe_y.data() + s.moe_rows[static_cast<size_t>(j)] * E, s.moe_x.data() + j * E,
                  static_cast<size_t>(E) * sizeof(float));
  }
  // Weighted sum over each token's experts, in selection order (llama.cpp's order of adds).
  for (int64_t i = 0; i < n; ++i) {
    float* o = out + i * E;
    const float* w = s.moe_w.data() + i * KU;
    K.scale_f32(s.moe_y.data() + (i * KU) * E, w[0], o, E);
    for (int64_t k = 1; k < KU; ++k) K.axpy_f32(w[k], s.moe_y.data() + (i * KU + k) * E, o, E);
  }
}

}  // namespace corral::model
