#include "model/ffn_activation.h"

#include <algorithm>
#include <cmath>

#include "kernels/api.h"

namespace corral::model {

void swiglu_clamped(const float* gate, const float* up, float* out, int64_t n, float alpha, float limit) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], limit);
    const float u = std::clamp(up[i], -limit, limit);
    out[i] = g / (1.0f + std::exp(-alpha * g)) * (u + 1.0f);
  }
}

void gated_activation(FfnActivation act, const float* gate, const float* up, float* out, int64_t n) {
  const kernels::KernelTable& K = kernels::active();
  switch (act) {
    case FfnActivation::kSilu: K.swiglu(gate, up, out, n); return;
    case FfnActivation::kGeluTanh: K.geglu_tanh(gate, up, out, n); return;
    // gpt-oss's constants (its HF config: swiglu_limit 7.0; alpha 1.702 is fixed in its code and
    // in llama.cpp's graph); the GGUF carries neither.
    case FfnActivation::kSwigluClamped: swiglu_clamped(gate, up, out, n, 1.702f, 7.0f); return;
  }
}

}  // namespace corral::model
