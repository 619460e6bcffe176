// Internal: the scale searches of ggml's K-quant reference quantizers (ggml-quants.c,
// llama.cpp b4748), reproduced operation for operation in f32 so our encodings are the same
// bytes llama-quantize writes. Only the variants the reference quantizers use are here.
#pragma once

#include <cstdint>

namespace corral::kernels {

// A group whose largest magnitude is below this counts as all zeros (ggml's GROUP_MAX_EPS).
constexpr float kGroupMaxEps = 1e-15f;

// ggml's make_qx_quants with rmse_type 1 and no importance weights: a symmetric scale for n
// values with levels l in [-nmax, nmax), weighted by x^2. Tries 18 scales around nmax / max
// and keeps the least-squares best. L[i] = l + nmax. Returns the scale (0 for an all-zero
// group). Used by Q6_K.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L);

// ggml's make_q3_quants with do_rmse: the same start as make_qx_quants, then up to 5 passes of
// moving single levels while that lowers the x^2-weighted error. L[i] = l + nmax. Used by Q3_K.
float make_q3_quants(int n, int nmax, const float* x, int8_t* L);

// ggml's make_qkx2_quants: x ~ scale * L + min with L in [0, nmax] and min <= 0, fitted by
// weighted least squares over nstep + 1 trial scales (nmax + rmin + rdelta * is) / range.
// use_mad picks absolute instead of squared error to compare trials. Writes L (n <= 32),
// *neg_min = -min, returns the scale. nstep must be >= 1 (all ggml callers pass 15 or 20).
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* neg_min, float rmin,
                       float rdelta, int nstep, bool use_mad);

}  // namespace corral::kernels
