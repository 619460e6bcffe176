// Scalar reference kernels for Q5_0 (x = d * (q - 16)) and Q5_1 (x = d * q + m), 5-bit codes
// in blocks of 32, and their dot products with Q8_0 / Q8_1 activations. The quantizers
// reproduce ggml's quantize_row_q5_0_ref / quantize_row_q5_1_ref bit for bit.
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

void quantize_q5_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(dst);
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const float* x = src + b * kQK5_0;
    // As Q4_0: the signed value of largest magnitude maps to the end code 0 (q - 16 = -16).
    float amax = 0, max = 0;
    for (int j = 0; j < kQK5_0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -16;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    uint8_t codes[kQK5_0];
    // +16.5 then truncation: round half up on the shifted code, capped at the top code 31.
    for (int j = 0; j < kQK5_0; ++j) {
      codes[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(x[j] * id + 16.5f)));
    }
    blocks[b].d = f32_to_fp16(d);
    store_high_bits(codes, blocks[b].qh);
    pack_low_nibbles(codes, blocks[b].qs);
  }
}

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    const uint32_t qh = load_high_bits(blocks[b].qh);
    for (int j = 0; j < kQK5_0; ++j) {
      dst[b * kQK5_0 + j] = static_cast<float>(five_bit_code(blocks[b].qs, qh, j) - 16) * d;
    }
  }
}

// As ggml_vec_dot_q5_0_q8_0: (d_w * d_x) * exact integer block sum.
float dot_q5_0_q8_0(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_0*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK5_0; ++b) {
    const uint32_t qh = load_high_bits(wb[b].qh);
    int sumi = 0;
    for (int j = 0; j < kQK5_0; ++j) sumi += (five_bit_code(wb[b].qs, qh, j) - 16) * xb[b].qs[j];
    sum += fp16_to_f32(wb[b].d) * fp16_to_f32(xb[b].d) * static_cast<float>(sumi);
  }
  return sum;
}

void quantize_q5_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_1*>(dst);
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const float* x = src + b * kQK5_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK5_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31;  // 32 levels span [min, max]
    const float id = d != 0 ? 1.0f / d : 0.0f;
    uint8_t codes[kQK5_1];
    // Round half up; (max - min) * id is at most 31 plus rounding, so the code stays <= 31.
    for (int j = 0; j < kQK5_1; ++j) codes[j] = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
    blocks[b].d = f32_to_fp16(d);
    blocks[b].m = f32_to_fp16(min);
    store_high_bits(codes, blocks[b].qh);
    pack_low_nibbles(codes, blocks[b].qs);
  }
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    const float m = fp16_to_f32(blocks[b].m);
    const uint32_t qh = load_high_bits(blocks[b].qh);
    for (int j = 0; j < kQK5_1; ++j) {
      dst[b * kQK5_1 + j] = static_cast<float>(five_bit_code(blocks[b].qs, qh, j)) * d + m;
    }
  }
}

// As ggml_vec_dot_q5_1_q8_1: (d_w * d_x) * sum(q_w * q_x) + m_w * s_x.
float dot_q5_1_q8_1(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_1*>(w);
  const auto* xb = static_cast<const BlockQ8_1*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK5_1; ++b) {
    const uint32_t qh = load_high_bits(wb[b].qh);
    int sumi = 0;
    for (int j = 0; j < kQK5_1; ++j) sumi += five_bit_code(wb[b].qs, qh, j) * xb[b].qs[j];
    sum += fp16_to_f32(wb[b].d) * fp16_to_f32(xb[b].d) * static_cast<float>(sumi) +
           fp16_to_f32(wb[b].m) * fp16_to_f32(xb[b].s);
  }
  return sum;
}

}  // namespace

void register_generic_q5(KernelTable& t) {
  constexpr auto q5_0 = static_cast<uint32_t>(DType::kQ5_0);
  constexpr auto q5_1 = static_cast<uint32_t>(DType::kQ5_1);
  t.quantize_row[q5_0] = quantize_q5_0;
  t.dequantize_row[q5_0] = dequantize_q5_0;
  t.gemm[q5_0] = gemm_by_rows<dot_q5_0_q8_0>;
  t.quantize_row[q5_1] = quantize_q5_1;
  t.dequantize_row[q5_1] = dequantize_q5_1;
  t.gemm[q5_1] = gemm_by_rows<dot_q5_1_q8_1>;
}

}  // namespace corral::kernels
