// Scalar reference kernels for Q3_K: super-blocks of 256 as 16 sub-blocks of 16, each
// x = d * sc * q with 3-bit codes q in [-4, 3] (2 low bits + a high bit) and signed 6-bit
// sc. The quantizer reproduces ggml's quantize_row_q3_K_ref bit for bit; the dot with Q8_K
// computes ggml_vec_dot_q3_K_q8_K's integer sums.
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

constexpr int kSub = 16;                  // elements per sub-block
constexpr int kSubBlocks = kQK_K / kSub;  // 16

// Codes in [-4, 3]: the stored high bit set means the low 2 bits are the value, clear means
// 4 less.
void unpack_codes(const BlockQ3_K& b, int8_t* q /*[256]*/) {
  for (int e = 0; e < kQK_K; ++e) {
    const int low = (b.qs[crumb_byte(e)] >> crumb_shift(e)) & 3;
    const int high = (b.hmask[bit_byte(e)] >> bit_shift(e)) & 1;
    q[e] = static_cast<int8_t>(low - (high ? 0 : 4));
  }
}

void quantize_q3_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ3_K& y = blocks[b];
    int8_t L[kQK_K];           // [256] codes 0..7 (value + 4)
    float scales[kSubBlocks];  // per sub-block fitted scale, signed
    float max_scale = 0, amax = 0;
    for (int s = 0; s < kSubBlocks; ++s) {
      scales[s] = make_q3_quants(kSub, 4, x + kSub * s, L + kSub * s);
      if (std::fabs(scales[s]) > amax) {
        amax = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    // The sub-block scales become signed 6-bit multiples of d, the largest magnitude mapping
    // to -32 (the longer side of [-32, 31]).
    uint8_t scale_codes[kSubBlocks] = {};  // scale + 32, 0..63
    if (max_scale != 0) {
      const float iscale = -32.0f / max_scale;
      for (int s = 0; s < kSubBlocks; ++s) {
        const int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[s]));
        scale_codes[s] = static_cast<uint8_t>(std::max<int>(-32, std::min<int>(31, l)) + 32);
      }
      y.d = f32_to_fp16(1 / iscale);
    } else {
      y.d = f32_to_fp16(0.0f);
    }
    pack_q3_k_scales(scale_codes, y.scales);
    // Re-derive the codes against the scales as stored; a sub-block whose stored scale is 0
    // keeps the codes of its fit, as in ggml.
    int sc[kSubBlocks];
    unpack_q3_k_scales(y.scales, sc);
    for (int s = 0; s < kSubBlocks; ++s) {
      const float d = fp16_to_f32(y.d) * static_cast<float>(sc[s]);
      if (d == 0) continue;
      for (int j = 0; j < kSub; ++j) {
        const int l = nearest_int(x[kSub * s + j] / d);
        L[kSub * s + j] = static_cast<int8_t>((l < -4 ? -4 : l > 3 ? 3 : l) + 4);
      }
    }
    for (uint8_t& m : y.hmask) m = 0;
    for (uint8_t& q : y.qs) q = 0;
    for (int e = 0; e < kQK_K; ++e) {
      int code = L[e];
      if (code > 3) {
        y.hmask[bit_byte(e)] |= 1 << bit_shift(e);
        code -= 4;
      }
      y.qs[crumb_byte(e)] |= code << crumb_shift(e);
    }
  }
}

void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes -4..3
    unpack_codes(blocks[b], q);
    int sc[kSubBlocks];
    unpack_q3_k_scales(blocks[b].scales, sc);
    const float d = fp16_to_f32(blocks[b].d);
    float* y = dst + b * kQK_K;
    for (int s = 0; s < kSubBlocks; ++s) {
      const float dl = d * static_cast<float>(sc[s]);
      for (int e = s * kSub; e < (s + 1) * kSub; ++e) y[e] = dl * static_cast<float>(q[e]);
    }
  }
}

// Per super-block: (d * d_x) * sum(sc * q * q_x), the sum exact. ggml's generic code spreads
// the same sum over 8 f32 lanes; we add one f32 term per super-block.
float dot_q3_k_q8_k(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ3_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    int8_t q[kQK_K];  // [256] codes -4..3
    unpack_codes(wb[b], q);
    int sc[kSubBlocks];
    unpack_q3_k_scales(wb[b].scales, sc);
    const int isum = scaled_block_dot<kSub>(q, xb[b].qs, sc);
    sum += fp16_to_f32(wb[b].d) * xb[b].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace

void register_generic_q3_k(KernelTable& t) {
  constexpr auto q3_k = static_cast<uint32_t>(DType::kQ3_K);
  t.quantize_row[q3_k] = quantize_q3_k;
  t.dequantize_row[q3_k] = dequantize_q3_k;
  t.gemm[q3_k] = gemm_by_rows<dot_q3_k_q8_k>;
}

}  // namespace corral::kernels
