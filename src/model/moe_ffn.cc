#include "model/moe_ffn.h"

#include <algorithm>
#include <cstring>

#include "kernels/api.h"

namespace corral::model {

Result<MoeWeights> bind_moe(WeightBinder& b, const std::string& p, const ModelConfig& c) {
  MoeWeights m;
  // The router stays F32 in llama-quantize's mixes; any matmul type is accepted.
  CORRAL_ASSIGN_OR_RETURN(m.router, b.matrix(p + "ffn_gate_inp.weight", c.n_expert, c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m.gate, b.experts(p + "ffn_gate_exps.weight", c.n_expert, c.n_ff_exp, c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m.up, b.experts(p + "ffn_up_exps.weight", c.n_expert, c.n_ff_exp, c.n_embd));
  CORRAL_ASSIGN_OR_RETURN(m.down, b.experts(p + "ffn_down_exps.weight", c.n_expert, c.n_embd, c.n_ff_exp));
  return m;
}

void select_experts(const float* probs, int64_t n_expert, int64_t n_used, int32_t* ids, float* w) {
  for (int64_t k = 0; k < n_used; ++k) {
    int32_t best = -1;
    for (int32_t e = 0; e < n_expert; ++e) {
      if (std::find(ids, ids + k, e) != ids + k) continue;
      if (best < 0 || probs[e] > probs[best]) best = e;
    }
    ids[k] = best;
  }
  // As llama.cpp: the selected probabilities summed in selection order, then each divided.
  float sum = 0;
  for (int64_t k = 0; k < n_used; ++k) sum += probs[ids[k]];
  for (int64_t k = 0; k < n_used; ++k) w[k] = probs[ids[k]] / sum;
}

void moe_ffn(const MoeWeights& m, const ModelConfig& c, const float* xn, int64_t n, float* out, ForwardScratch& s,
             ThreadPool& pool) {
  const kernels::KernelTable& K = kernels::active();
  const int64_t E = c.n_embd, NE = c.n_expert, KU = c.n_expert_used, F = c.n_ff_exp;
  // Router: probabilities over all experts, then the renormalized top-k.
  kernels::matmul(m.router, xn, n, s.moe_logits.data(), NE, pool, s.matmul);
  for (int64_t i = 0; i < n; ++i) {
    float* p = s.moe_logits.data() + i * NE;
    K.softmax(p, NE);
    select_experts(p, NE, KU, s.moe_ids.data() + i * KU, s.moe_w.data() + i * KU);
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
    K.swiglu(s.gate.data(), s.up.data(), s.gate.data(), cnt * F);
    kernels::matmul(m.down[static_cast<size_t>(e)], s.gate.data(), cnt, s.moe_x.data(), E, pool, s.matmul);
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
