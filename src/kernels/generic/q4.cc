// Scalar reference kernels for Q4_0 (x = d * (q - 8)) and Q4_1 (x = d * q + m), 4-bit codes in
// blocks of 32, and their dot products with Q8_0 / Q8_1 activations. The quantizers reproduce
// ggml's quantize_row_q4_0_ref / quantize_row_q4_1_ref bit for bit.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "base/fp16.h"
#include "kernels/generic/families.h"
#include "kernels/generic/gemm_by_rows.h"
#include "kernels/generic/legacy_layout.h"
#include "tensor/blocks.h"

namespace corral::kernels {
namespace {

void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float* x = src + b * kQK4_0;
    // The value of largest magnitude, with its sign, maps to code 0 (q - 8 = -8): the block
    // uses the full asymmetric range [-8, 7] on the side where it matters.
    float amax = 0, max = 0;
    for (int j = 0; j < kQK4_0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    uint8_t codes[kQK4_0];
    // +8.5 then truncation rounds half up on the shifted code (ggml's choice); 15 is the cap
    // for the value at the far end of the range.
    for (int j = 0; j < kQK4_0; ++j) codes[j] = std::min(15, static_cast<int>(x[j] * id + 8.5f));
    blocks[b].d = f32_to_fp16(d);
    pack_low_nibbles(codes, blocks[b].qs);
  }
}

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK4_0; ++j) {
      dst[b * kQK4_0 + j] = static_cast<float>(low_nibble_of(blocks[b].qs, j) - 8) * d;
    }
  }
}

// As ggml_vec_dot_q4_0_q8_0: exact integer sum per block, then (sum * d_w) * d_x.
float dot_q4_0_q8_0(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_0*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK4_0; ++b) {
    int sumi = 0;
    for (int j = 0; j < kQK4_0; ++j) sumi += (low_nibble_of(wb[b].qs, j) - 8) * xb[b].qs[j];
    sum += static_cast<float>(sumi) * fp16_to_f32(wb[b].d) * fp16_to_f32(xb[b].d);
  }
  return sum;
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(dst);
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    const float* x = src + b * kQK4_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK4_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15;  // 16 levels span [min, max]
    const float id = d != 0 ? 1.0f / d : 0.0f;
    uint8_t codes[kQK4_1];
    for (int j = 0; j < kQK4_1; ++j) { codes[j] = std::min(15, static_cast<int>((x[j] - min) * id + 0.5f)); }
    blocks[b].d = f32_to_fp16(d);
    blocks[b].m = f32_to_fp16(min);
    pack_low_nibbles(codes, blocks[b].qs);
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    const float m = fp16_to_f32(blocks[b].m);
    for (int j = 0; j < kQK4_1; ++j) {
      dst[b * kQK4_1 + j] = static_cast<float>(low_nibble_of(blocks[b].qs, j)) * d + m;
    }
  }
}

// As ggml_vec_dot_q4_1_q8_1: (d_w * d_x) * sum(q_w * q_x) + m_w * s_x, where the activation's
// s = d_x * sum(q_x) carries the min term without a second pass.
float dot_q4_1_q8_1(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_1*>(w);
  const auto* xb = static_cast<const BlockQ8_1*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK4_1; ++b) {
    int sumi = 0;
    for (int j = 0; j < kQK4_1; ++j) sumi += low_nibble_of(wb[b].qs, j) * xb[b].qs[j];
    sum += fp16_to_f32(wb[b].d) * fp16_to_f32(xb[b].d) * static_cast<float>(sumi) +
           fp16_to_f32(wb[b].m) * fp16_to_f32(xb[b].s);
  }
  return sum;
}

}  // namespace

void register_generic_q4(KernelTable& t) {
  constexpr auto q4_0 = static_cast<uint32_t>(DType::kQ4_0);
  constexpr auto q4_1 = static_cast<uint32_t>(DType::kQ4_1);
  t.quantize_row[q4_0] = quantize_q4_0;
  t.dequantize_row[q4_0] = dequantize_q4_0;
  t.gemm[q4_0] = gemm_by_rows<dot_q4_0_q8_0>;
  t.quantize_row[q4_1] = quantize_q4_1;
  t.dequantize_row[q4_1] = dequantize_q4_1;
  t.gemm[q4_1] = gemm_by_rows<dot_q4_1_q8_1>;
}

}  // namespace corral::kernels
