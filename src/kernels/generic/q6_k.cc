// Scalar reference kernels for Q6_K: super-blocks of 256 as 16 sub-blocks of 16, each
// x = d * sc * q with 6-bit codes q in [-32, 31] and signed 8-bit sc. The quantizer
// reproduces ggml's quantize_row_q6_K_ref bit for bit; the dot with Q8_K computes
// ggml_vec_dot_q6_K_q8_K's integer sums.
#include <algorithm>
#include <cmath>
#include <cstring>

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

// Codes in [-32, 31]: 4 low bits in ql, 2 high bits in qh, stored + 32.
void unpack_codes(const BlockQ6_K& b, int8_t* q /*[256]*/) {
  for (int e = 0; e < kQK_K; ++e) {
    const int low = (b.ql[q6_nibble_byte(e)] >> q6_nibble_shift(e)) & 0x0F;
    const int high = (b.qh[crumb_byte(e)] >> crumb_shift(e)) & 3;
    q[e] = static_cast<int8_t>((low | high << 4) - 32);
  }
}

void quantize_q6_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ6_K& y = blocks[b];
    int8_t L[kQK_K];           // [256] codes 0..63 (value + 32)
    float scales[kSubBlocks];  // per sub-block fitted scale, signed
    float max_scale = 0, max_abs_scale = 0;
    for (int s = 0; s < kSubBlocks; ++s) {
      scales[s] = make_qx_quants(kSub, 32, x + kSub * s, L + kSub * s);
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y, 0, sizeof y);
      continue;
    }
    // Sub-block scales become signed 8-bit multiples of d, the largest magnitude mapping to
    // -128 (the longer side of [-128, 127]).
    const float iscale = -128.0f / max_scale;
    y.d = f32_to_fp16(1 / iscale);
    for (int s = 0; s < kSubBlocks; ++s) {
      y.scales[s] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[s])));
    }
    // Re-derive the codes against the scales as stored; a sub-block whose stored scale is 0
    // keeps the codes of its fit, as in ggml.
    for (int s = 0; s < kSubBlocks; ++s) {
      const float d = fp16_to_f32(y.d) * static_cast<float>(y.scales[s]);
      if (d == 0) continue;
      for (int j = 0; j < kSub; ++j) {
        const int l = nearest_int(x[kSub * s + j] / d);
        L[kSub * s + j] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }
    std::fill(std::begin(y.ql), std::end(y.ql), uint8_t{0});
    std::fill(std::begin(y.qh), std::end(y.qh), uint8_t{0});
    for (int e = 0; e < kQK_K; ++e) {
      const int code = L[e];
      y.ql[q6_nibble_byte(e)] |= (code & 0x0F) << q6_nibble_shift(e);
      y.qh[crumb_byte(e)] |= (code >> 4) << crumb_shift(e);
    }
  }
}

void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes -32..31
    unpack_codes(blocks[b], q);
    const float d = fp16_to_f32(blocks[b].d);
    float* y = dst + b * kQK_K;
    for (int s = 0; s < kSubBlocks; ++s) {
      const float dl = d * static_cast<float>(blocks[b].scales[s]);
      for (int e = s * kSub; e < (s + 1) * kSub; ++e) y[e] = dl * static_cast<float>(q[e]);
    }
  }
}

// Per super-block: (d * d_x) * sum(sc * q * q_x), the sum exact. ggml's generic code spreads
// the same sum over 8 f32 lanes; we add one f32 term per super-block.
float dot_q6_k_q8_k(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes -32..31
    unpack_codes(wb[b], q);
    int sc[kSubBlocks];
    for (int s = 0; s < kSubBlocks; ++s) sc[s] = wb[b].scales[s];
    const int isum = scaled_block_dot<kSub>(q, xb[b].qs, sc);
    sum += fp16_to_f32(wb[b].d) * xb[b].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace

void register_generic_q6_k(KernelTable& t) {
  constexpr auto q6_k = static_cast<uint32_t>(DType::kQ6_K);
  t.quantize_row[q6_k] = quantize_q6_k;
  t.dequantize_row[q6_k] = dequantize_q6_k;
  t.gemm[q6_k] = gemm_by_rows<dot_q6_k_q8_k>;
}

}  // namespace corral::kernels
