// Scalar reference kernels for the non-linear 4-bit formats: IQ4_NL (blocks of 32, x = d *
// kIQ4NLValues[code]) with Q8_0 activations, and IQ4_XS (super-blocks of 256 as 8 sub-blocks
// of 32, x = d * (ls - 32) * kIQ4NLValues[code] with a 6-bit ls per sub-block) with Q8_K
// activations. The quantizers follow ggml's quantize_row_iq4_nl_impl without an importance
// matrix (what llama-quantize runs for these types, 7 trial scales each side); the dots
// compute ggml_vec_dot_iq4_nl_q8_0 / ggml_vec_dot_iq4_xs_q8_K's integer sums.
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/generic/families.h"
#include "kernels/generic/gemm_by_rows.h"
#include "kernels/generic/legacy_layout.h"
#include "kernels/generic/lut4_layout.h"
#include "kernels/generic/rounding.h"
#include "tensor/blocks.h"

namespace corral::kernels {
namespace {

constexpr int kBlock = 32;  // elements per IQ4_NL block and per IQ4_XS sub-block

// ggml's GROUP_MAX_EPS: a block whose largest magnitude is below this counts as all zeros.
constexpr float kGroupMaxEps = 1e-15f;

// Trial scales on each side of the first fit (ggml's ntry for IQ4_NL and IQ4_XS).
constexpr int kTries = 7;

// Index of the table value nearest to x (the lower one on a tie), by bisection: ggml's
// best_index_int8.
int best_index(float x) {
  const int8_t* v = kIQ4NLValues;
  if (x <= v[0]) return 0;
  if (x >= v[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < v[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return x - v[hi - 1] < v[hi] - x ? hi - 1 : hi;
}

// Best scale for one block of 32 (weights w = x^2: large values matter most) and its codes in
// L; 0 for an all-zero block, whose codes are left alone. The first guess maps the value of
// largest magnitude to -127; then 15 scales around it are tried, keeping the one with the
// smallest weighted squared error, whose least-squares d is returned.
float fit_block(const float* x, uint8_t* L) {
  float amax = 0, max = 0;
  for (int j = 0; j < kBlock; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (amax < kGroupMaxEps) return 0;
  float d = -max / kIQ4NLValues[0];
  float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int j = 0; j < kBlock; ++j) {
    L[j] = static_cast<uint8_t>(best_index(id * x[j]));
    const float q = kIQ4NLValues[L[j]], w = x[j] * x[j];
    sumqx += w * q * x[j];
    sumq2 += w * q * q;
  }
  d = sumqx / sumq2;
  float best = d * sumqx;
  for (int t = -kTries; t <= kTries; ++t) {
    id = (static_cast<float>(t) + kIQ4NLValues[0]) / max;
    sumqx = sumq2 = 0;
    for (int j = 0; j < kBlock; ++j) {
      const float q = kIQ4NLValues[best_index(id * x[j])], w = x[j] * x[j];
      sumqx += w * q * x[j];
      sumq2 += w * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

void quantize_iq4_nl(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_NL*>(dst);
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const float* x = src + b * kBlock;
    uint8_t L[kBlock] = {};
    const float d = fit_block(x, L);
    blocks[b].d = f32_to_fp16(d);
    // Codes against the fitted f32 d (as ggml; an all-zero block gets code 8, value 1 * 0).
    const float id = d != 0 ? 1 / d : 0.0f;
    for (int j = 0; j < kBlock; ++j) L[j] = static_cast<uint8_t>(best_index(id * x[j]));
    pack_low_nibbles(L, blocks[b].qs);
  }
}

void dequantize_iq4_nl(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    for (int j = 0; j < kBlock; ++j) dst[b * kBlock + j] = d * kIQ4NLValues[low_nibble_of(blocks[b].qs, j)];
  }
}

// As ggml_vec_dot_iq4_nl_q8_0: exact integer sum per block, then sum * (d_w * d_x).
float dot_iq4_nl_q8_0(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ4_NL*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kBlock; ++b) {
    int sumi = 0;
    for (int j = 0; j < kBlock; ++j) sumi += kIQ4NLValues[low_nibble_of(wb[b].qs, j)] * xb[b].qs[j];
    sum += static_cast<float>(sumi) * (fp16_to_f32(wb[b].d) * fp16_to_f32(xb[b].d));
  }
  return sum;
}

void quantize_iq4_xs(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_XS*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockIQ4_XS& y = blocks[b];
    uint8_t L[kQK_K] = {};
    float scales[kIQ4XSSubBlocks];
    float max_scale = 0, amax_scale = 0;  // the sub-block scale of largest magnitude, signed
    for (int s = 0; s < kIQ4XSSubBlocks; ++s) {
      scales[s] = fit_block(x + kBlock * s, L + kBlock * s);
      if (std::fabs(scales[s]) > amax_scale) {
        amax_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    // Sub-block scales become 6-bit multiples l in [-32, 31] of d = -max_scale / 32, so the
    // largest one is exactly l = -32; codes are then re-derived against d * l.
    const float d = -max_scale / 32;
    y.d = f32_to_fp16(d);
    y.scales_h = 0;
    std::memset(y.scales_l, 0, sizeof y.scales_l);
    const float id = d != 0 ? 1 / d : 0.0f;
    for (int s = 0; s < kIQ4XSSubBlocks; ++s) {
      int l = nearest_int(id * scales[s]);
      l = l < -32 ? -32 : l > 31 ? 31 : l;
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0 ? 1 / dl : 0.0f;
      for (int j = 0; j < kBlock; ++j) L[kBlock * s + j] = static_cast<uint8_t>(best_index(idl * x[kBlock * s + j]));
      const int stored = l + 32;
      y.scales_l[s / 2] |= static_cast<uint8_t>((stored & 0x0F) << (4 * (s % 2)));
      y.scales_h |= static_cast<uint16_t>((stored >> 4) << (2 * s));
      pack_low_nibbles(L + kBlock * s, y.qs + 16 * s);
    }
  }
}

void dequantize_iq4_xs(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    for (int s = 0; s < kIQ4XSSubBlocks; ++s) {
      const float dl = d * static_cast<float>(iq4_xs_scale(blocks[b], s));
      const uint8_t* qs = blocks[b].qs + 16 * s;
      for (int j = 0; j < kBlock; ++j) dst[b * kQK_K + kBlock * s + j] = dl * kIQ4NLValues[low_nibble_of(qs, j)];
    }
  }
}

// ggml_vec_dot_iq4_xs_q8_K's per-sub-block integer sums, but scaled and added as integers
// (|total| <= 8 * 32 * 32 * 127 * 128 < 2^31) and converted once per super-block: exact where
// ggml rounds a float per sub-block, and the form the SIMD kernels compute.
float dot_iq4_xs_q8_k(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ4_XS*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    int total = 0;
    for (int s = 0; s < kIQ4XSSubBlocks; ++s) {
      const uint8_t* qs = wb[b].qs + 16 * s;
      const int8_t* q8 = xb[b].qs + kBlock * s;
      int sumi = 0;
      for (int j = 0; j < kBlock; ++j) sumi += kIQ4NLValues[low_nibble_of(qs, j)] * q8[j];
      total += iq4_xs_scale(wb[b], s) * sumi;
    }
    sum += static_cast<float>(total) * (fp16_to_f32(wb[b].d) * xb[b].d);
  }
  return sum;
}

}  // namespace

void register_generic_iq4(KernelTable& t) {
  constexpr auto nl = static_cast<uint32_t>(DType::kIQ4_NL);
  constexpr auto xs = static_cast<uint32_t>(DType::kIQ4_XS);
  t.quantize_row[nl] = quantize_iq4_nl;
  t.dequantize_row[nl] = dequantize_iq4_nl;
  t.gemm[nl] = gemm_by_rows<dot_iq4_nl_q8_0>;
  t.quantize_row[xs] = quantize_iq4_xs;
  t.dequantize_row[xs] = dequantize_iq4_xs;
  t.gemm[xs] = gemm_by_rows<dot_iq4_xs_q8_k>;
}

}  // namespace corral::kernels
