// Scalar reference kernels for Q4_K and Q5_K: super-blocks of 256 as 8 sub-blocks of 32, each
// x = d * sc * q - dmin * m with 6-bit sc, m and 4-bit (Q4_K) or 5-bit (Q5_K) codes q. The two
// differ only in the 5th bit, so they share everything else here. The quantizers reproduce
// ggml's quantize_row_q4_K_ref / quantize_row_q5_K_ref bit for bit; the dots with Q8_K compute
// ggml_vec_dot_q4_K_q8_K / ggml_vec_dot_q5_K_q8_K's integer sums.
#include <algorithm>
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

constexpr int kSub = 32;                  // elements per sub-block
constexpr int kSubBlocks = kQK_K / kSub;  // 8
constexpr int kScaleMax = 63;             // 6-bit sub-block scales and mins

// What quantize_super_block produces, before the codes are split into bit fields.
struct SuperBlockFit {
  uint16_t d, dmin;             // f16
  uint8_t scales[kKScaleSize];  // packed 6-bit scales and mins
  uint8_t L[kQK_K];             // [256] codes 0..nmax
};

// Trial-scale grid of make_qkx2_quants per format (ggml's constants): Q4_K tries 21 scales from
// nmax - 1, Q5_K 16 from nmax - 0.5, both in steps of 0.1.
struct Grid {
  int nmax;
  float rmin;
  int nstep;
};
constexpr Grid kQ4Grid{15, -1.0f, 20};
constexpr Grid kQ5Grid{31, -0.5f, 15};

// ggml's quantize_row_q{4,5}_K_ref up to the bit packing.
void quantize_super_block(const float* x, const Grid& grid, SuperBlockFit& fit) {
  float scales[kSubBlocks], mins[kSubBlocks];  // per sub-block fit (mins as -min >= 0)
  float max_scale = 0, max_min = 0;
  for (int s = 0; s < kSubBlocks; ++s) {
    const float* xs = x + kSub * s;
    float sum_x2 = 0;
    for (int j = 0; j < kSub; ++j) sum_x2 += xs[j] * xs[j];
    const float av_x = std::sqrt(sum_x2 / kSub);
    // Weight each element by its size plus the sub-block's RMS: large values matter most, but
    // small ones are not ignored.
    float weights[kSub];
    for (int j = 0; j < kSub; ++j) weights[j] = av_x + std::fabs(xs[j]);
    scales[s] =
        make_qkx2_quants(kSub, grid.nmax, xs, weights, fit.L + kSub * s, &mins[s], grid.rmin, 0.1f, grid.nstep, false);
    if (scales[s] > max_scale) max_scale = scales[s];
    if (mins[s] > max_min) max_min = mins[s];
  }
  // Scales and mins become 6-bit multiples of d = max_scale / 63 (resp. dmin). Codes go through
  // uint8 before the cap, as in ggml.
  const float inv_scale = max_scale > 0 ? kScaleMax / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? kScaleMax / max_min : 0.0f;
  uint8_t ls[kSubBlocks], lm[kSubBlocks];
  for (int s = 0; s < kSubBlocks; ++s) {
    ls[s] = std::min<uint8_t>(kScaleMax, static_cast<uint8_t>(nearest_int(inv_scale * scales[s])));
    lm[s] = std::min<uint8_t>(kScaleMax, static_cast<uint8_t>(nearest_int(inv_min * mins[s])));
  }
  pack_k4_scales(ls, lm, fit.scales);
  fit.d = f32_to_fp16(max_scale / kScaleMax);
  fit.dmin = f32_to_fp16(max_min / kScaleMax);
  // Re-derive the codes against the scales as stored; a sub-block whose stored scale is 0
  // keeps the codes of its fit, as in ggml.
  for (int s = 0; s < kSubBlocks; ++s) {
    const float d = fp16_to_f32(fit.d) * static_cast<float>(ls[s]);
    if (d == 0) continue;
    const float dm = fp16_to_f32(fit.dmin) * static_cast<float>(lm[s]);
    for (int j = 0; j < kSub; ++j) {
      const int l = nearest_int((x[kSub * s + j] + dm) / d);
      fit.L[kSub * s + j] = static_cast<uint8_t>(std::max(0, std::min(grid.nmax, l)));
    }
  }
}

void store_low_nibbles(const uint8_t* L /*[256]*/, uint8_t* qs /*[128]*/) {
  std::fill(qs, qs + kQK_K / 2, uint8_t{0});
  for (int e = 0; e < kQK_K; ++e) { qs[nibble_byte(e)] |= (L[e] & 0x0F) << nibble_shift(e); }
}

void quantize_q4_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(dst);
  SuperBlockFit fit;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    quantize_super_block(src + b * kQK_K, kQ4Grid, fit);
    blocks[b].d = fit.d;
    blocks[b].dmin = fit.dmin;
    std::copy(fit.scales, fit.scales + kKScaleSize, blocks[b].scales);
    store_low_nibbles(fit.L, blocks[b].qs);
  }
}

void quantize_q5_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(dst);
  SuperBlockFit fit;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    quantize_super_block(src + b * kQK_K, kQ5Grid, fit);
    BlockQ5_K& y = blocks[b];
    y.d = fit.d;
    y.dmin = fit.dmin;
    std::copy(fit.scales, fit.scales + kKScaleSize, y.scales);
    store_low_nibbles(fit.L, y.qs);
    std::fill(y.qh, y.qh + kQK_K / 8, uint8_t{0});
    for (int e = 0; e < kQK_K; ++e) { y.qh[bit_byte(e)] |= (fit.L[e] >> 4) << bit_shift(e); }
  }
}

void unpack_q4_k_codes(const BlockQ4_K& b, int8_t* q /*[256], 0..15*/) {
  for (int e = 0; e < kQK_K; ++e) q[e] = (b.qs[nibble_byte(e)] >> nibble_shift(e)) & 0x0F;
}

void unpack_q5_k_codes(const BlockQ5_K& b, int8_t* q /*[256], 0..31*/) {
  for (int e = 0; e < kQK_K; ++e) {
    const int low = (b.qs[nibble_byte(e)] >> nibble_shift(e)) & 0x0F;
    const int high = (b.qh[bit_byte(e)] >> bit_shift(e)) & 1;
    q[e] = static_cast<int8_t>(low | high << 4);
  }
}

// y = (d * sc) * q - (dmin * m) per sub-block, as ggml's dequantize_row_q{4,5}_K.
void dequantize_super_block(uint16_t d16, uint16_t dmin16, const uint8_t* packed_scales, const int8_t* q /*[256]*/,
                            float* y /*[256]*/) {
  uint8_t sc[kSubBlocks], m[kSubBlocks];
  unpack_k4_scales(packed_scales, sc, m);
  const float d = fp16_to_f32(d16), dmin = fp16_to_f32(dmin16);
  for (int s = 0; s < kSubBlocks; ++s) {
    const float dl = d * static_cast<float>(sc[s]);
    const float ml = dmin * static_cast<float>(m[s]);
    for (int e = s * kSub; e < (s + 1) * kSub; ++e) y[e] = dl * static_cast<float>(q[e]) - ml;
  }
}

// One super-block's dot: (d * d_x) * sum(sc * q * q_x) - (dmin * d_x) * sum(m * bsum), both
// sums exact. ggml's generic code spreads the first over 8 f32 lanes; we add one f32 term per
// super-block.
float dot_super_block(uint16_t d16, uint16_t dmin16, const uint8_t* packed_scales, const int8_t* q /*[256]*/,
                      const BlockQ8_K& x) {
  uint8_t sc[kSubBlocks], m[kSubBlocks];
  unpack_k4_scales(packed_scales, sc, m);
  int scales[kSubBlocks];
  int summs = 0;  // sum over sub-blocks of min code * activation sum (two bsums of 16 each)
  for (int s = 0; s < kSubBlocks; ++s) {
    scales[s] = sc[s];
    summs += (x.bsums[2 * s] + x.bsums[2 * s + 1]) * m[s];
  }
  const int isum = scaled_block_dot<kSub>(q, x.qs, scales);
  const float d = fp16_to_f32(d16) * x.d;
  const float dmin = fp16_to_f32(dmin16) * x.d;
  return d * static_cast<float>(isum) - dmin * static_cast<float>(summs);
}

void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes
    unpack_q4_k_codes(blocks[b], q);
    dequantize_super_block(blocks[b].d, blocks[b].dmin, blocks[b].scales, q, dst + b * kQK_K);
  }
}

void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes
    unpack_q5_k_codes(blocks[b], q);
    dequantize_super_block(blocks[b].d, blocks[b].dmin, blocks[b].scales, q, dst + b * kQK_K);
  }
}

float dot_q4_k_q8_k(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes
    unpack_q4_k_codes(wb[b], q);
    sum += dot_super_block(wb[b].d, wb[b].dmin, wb[b].scales, q, xb[b]);
  }
  return sum;
}

float dot_q5_k_q8_k(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes
    unpack_q5_k_codes(wb[b], q);
    sum += dot_super_block(wb[b].d, wb[b].dmin, wb[b].scales, q, xb[b]);
  }
  return sum;
}

}  // namespace

void register_generic_q4_k_q5_k(KernelTable& t) {
  constexpr auto q4_k = static_cast<uint32_t>(DType::kQ4_K);
  constexpr auto q5_k = static_cast<uint32_t>(DType::kQ5_K);
  t.quantize_row[q4_k] = quantize_q4_k;
  t.dequantize_row[q4_k] = dequantize_q4_k;
  t.gemm[q4_k] = gemm_by_rows<dot_q4_k_q8_k>;
  t.quantize_row[q5_k] = quantize_q5_k;
  t.dequantize_row[q5_k] = dequantize_q5_k;
  t.gemm[q5_k] = gemm_by_rows<dot_q5_k_q8_k>;
}

}  // namespace corral::kernels
