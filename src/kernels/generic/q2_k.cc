// Scalar reference kernels for Q2_K: super-blocks of 256 as 16 sub-blocks of 16, each
// x = d * sc * q - dmin * m with 2-bit codes q and 4-bit sc, m. The quantizer reproduces
// ggml's quantize_row_q2_K_ref bit for bit; the dot with Q8_K is ggml_vec_dot_q2_K_q8_K's.
#include <cmath>

#include "base/fp16.h"
#include "kernels/generic/families.h"
#include "kernels/generic/gemm_by_rows.h"
#include "kernels/generic/k_quant_layout.h"
#include "kernels/generic/k_quant_search.h"
#include "kernels/generic/rounding.h"
#include "tensor/blocks.h"

namespace corral::kernels {
namespace {

constexpr int kSub = 16;                  // elements per sub-block
constexpr int kSubBlocks = kQK_K / kSub;  // 16
constexpr int kScaleMax = 15;             // 4-bit sub-block scales and mins

void unpack_codes(const BlockQ2_K& b, int8_t* q /*[256], 0..3*/) {
  for (int e = 0; e < kQK_K; ++e) q[e] = (b.qs[crumb_byte(e)] >> crumb_shift(e)) & 3;
}

void quantize_q2_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ2_K& y = blocks[b];
    uint8_t L[kQK_K];                            // [256] codes 0..3
    float scales[kSubBlocks], mins[kSubBlocks];  // per sub-block fit (mins as -min >= 0)
    float max_scale = 0, max_min = 0;
    for (int s = 0; s < kSubBlocks; ++s) {
      float weights[kSub];  // |x|: large values matter most for a 2-bit code
      for (int j = 0; j < kSub; ++j) weights[j] = std::fabs(x[kSub * s + j]);
      // ggml's trial grid for Q2_K: 16 scales from nmax - 0.5 in steps of 0.1, absolute error.
      scales[s] = make_qkx2_quants(kSub, 3, x + kSub * s, weights, L + kSub * s, &mins[s], -0.5f, 0.1f, 15, true);
      if (scales[s] > max_scale) max_scale = scales[s];
      if (mins[s] > max_min) max_min = mins[s];
    }
    // Scales and mins become 4-bit multiples of d = max / 15 (resp. dmin). Codes are taken as
    // ggml does: int to uint8 truncation, then OR-ed (a fit is never negative in practice).
    if (max_scale > 0) {
      const float iscale = kScaleMax / max_scale;
      for (int s = 0; s < kSubBlocks; ++s) y.scales[s] = nearest_int(iscale * scales[s]) & 0xFF;
      y.d = f32_to_fp16(max_scale / kScaleMax);
    } else {
      for (int s = 0; s < kSubBlocks; ++s) y.scales[s] = 0;
      y.d = f32_to_fp16(0.0f);
    }
    if (max_min > 0) {
      const float iscale = kScaleMax / max_min;
      for (int s = 0; s < kSubBlocks; ++s) { y.scales[s] |= nearest_int(iscale * mins[s]) << 4; }
      y.dmin = f32_to_fp16(max_min / kScaleMax);
    } else {
      y.dmin = f32_to_fp16(0.0f);
    }
    // Re-derive the codes against the scales as stored (f16 d, 4-bit multiples); a sub-block
    // whose stored scale is 0 keeps the codes of its fit, as in ggml.
    for (int s = 0; s < kSubBlocks; ++s) {
      const float d = fp16_to_f32(y.d) * static_cast<float>(y.scales[s] & 0x0F);
      if (d == 0) continue;
      const float dm = fp16_to_f32(y.dmin) * static_cast<float>(y.scales[s] >> 4);
      for (int j = 0; j < kSub; ++j) {
        const int l = nearest_int((x[kSub * s + j] + dm) / d);
        L[kSub * s + j] = static_cast<uint8_t>(l < 0 ? 0 : l > 3 ? 3 : l);
      }
    }
    for (uint8_t& q : y.qs) q = 0;
    for (int e = 0; e < kQK_K; ++e) y.qs[crumb_byte(e)] |= L[e] << crumb_shift(e);
  }
}

void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ2_K& x = blocks[b];
    int8_t q[kQK_K];  // [256] codes 0..3
    unpack_codes(x, q);
    const float d = fp16_to_f32(x.d), dmin = fp16_to_f32(x.dmin);
    float* y = dst + b * kQK_K;
    for (int s = 0; s < kSubBlocks; ++s) {
      const float dl = d * static_cast<float>(x.scales[s] & 0x0F);
      const float ml = dmin * static_cast<float>(x.scales[s] >> 4);
      for (int e = s * kSub; e < (s + 1) * kSub; ++e) y[e] = dl * static_cast<float>(q[e]) - ml;
    }
  }
}

// Per super-block: d_x * d * sum(sc * q * q_x) - d_x * dmin * sum(m * bsum), both sums exact.
float dot_q2_k_q8_k(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ2_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes 0..3
    unpack_codes(wb[b], q);
    int scales[kSubBlocks];
    int summs = 0;  // sum over sub-blocks of min code * activation sum
    for (int s = 0; s < kSubBlocks; ++s) {
      scales[s] = wb[b].scales[s] & 0x0F;
      summs += xb[b].bsums[s] * (wb[b].scales[s] >> 4);
    }
    const int isum = scaled_block_dot<kSub>(q, xb[b].qs, scales);
    const float dall = xb[b].d * fp16_to_f32(wb[b].d);
    const float dmin = xb[b].d * fp16_to_f32(wb[b].dmin);
    sum += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  return sum;
}

}  // namespace

void register_generic_q2_k(KernelTable& t) {
  constexpr auto q2_k = static_cast<uint32_t>(DType::kQ2_K);
  t.quantize_row[q2_k] = quantize_q2_k;
  t.dequantize_row[q2_k] = dequantize_q2_k;
  t.gemm[q2_k] = gemm_by_rows<dot_q2_k_q8_k>;
}

}  // namespace corral::kernels
