// The gated activations of the FFN blocks (dense and per expert): act(gate) * up and its
// variants, chosen by ModelConfig::ffn_act.
#pragma once

#include <cstdint>

#include "model/config.h"

namespace corral::model {

// out[i] = the activation `act` of (gate[i], up[i]); out may alias gate or up.
void gated_activation(FfnActivation act, const float* gate, const float* up, float* out, int64_t n);

// gpt-oss's clamped SwiGLU (ggml's swiglu_oai): g = min(gate, limit), u = clamp(up, -limit,
// limit), out = g * sigmoid(alpha g) * (u + 1). out may alias gate or up.
void swiglu_clamped(const float* gate, const float* up, float* out, int64_t n, float alpha, float limit);

}  // namespace corral::model
